"""The documents' own figures, reproduced by the policy pack from household-level facts.

Each test builds households (and villages, townships, a county) programmatically, so
that the figure comes out of the rules — poverty incidence, education aid, work funds,
the exit reward — rather than being typed in. Where a document's figures do not agree
with each other, the test shows the disagreement instead of hiding it.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fupin import load_policy

POLICY = Path(__file__).resolve().parent.parent / "policy"
ON = "2020-06-30"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


def households(status: str, sizes: list[int], prefix: str, **facts) -> list[dict]:
    """One household per size, all with the same status and extra facts."""
    registered = status in ("poor", "exited", "monitored")
    return [{"id": f"{prefix}{i}", "registered": registered, "status": status,
             "members": [{"age": 30} for _ in range(size)], **facts}
            for i, size in enumerate(sizes)]


def sizes_for(people: int, count: int) -> list[int]:
    """`count` household sizes, as even as possible, adding up to `people`."""
    base, extra = divmod(people, count)
    return [base + 1] * extra + [base] * (count - extra)


def evaluate(policy, facts, entity, variant=None):
    result = policy.evaluate(facts, on=ON, entity=entity, variant=variant)
    assert not result.errors, result.errors
    return result


# --- C5: village poverty incidence, 003:4-9 ---------------------------------------

POPULATION = 3876   # 003:4: 875 households, 3876 people of registered residence
REGISTERED = 1350   # 003:4: 280 registered households, 1350 people at the end of 2018
EXITED = 506        # 003:4: 100 households, 506 people exited 2014-2018


def village(poor_people: int, poor_households: int, exited_people=EXITED, exited_households=100):
    return {"id": "003-village", "population": POPULATION,
            "households": households("exited", sizes_for(exited_people, exited_households), "e")
            + households("poor", sizes_for(poor_people, poor_households), "p")}


def test_incidence_2018_is_21_78_percent_from_1350_minus_506(policy):
    # 003:4 states 21.78%. That figure is (1350 - 506) / 3876 = 844 / 3876: the people
    # of registered households not yet exited.
    result = evaluate(policy, village(REGISTERED - EXITED, 180), "village")
    assert result["poor_people"] == 844
    assert result["poverty_incidence"] == Decimal(844) / Decimal(POPULATION)
    assert result["poverty_incidence_rounded"] == Decimal("0.2178")
    assert result["village_exit_eligible"] in (False, None)  # facilities unknown; incidence alone fails


def test_the_806_people_of_003_4_do_not_give_21_78_percent(policy):
    # The same line says 180 households with 806 people remain; 806 / 3876 is 20.79%,
    # not the 21.78% the document reports. The pack follows the definition (C5), so the
    # document's 21.78% is reproduced from 844 people and its 806 is shown not to fit.
    result = evaluate(policy, village(806, 180), "village")
    assert result["poverty_incidence_rounded"] == Decimal("0.2079")
    assert result["poverty_incidence_rounded"] != Decimal("0.2178")


def test_incidence_after_the_2019_exits_is_1_24_percent(policy):
    # 003:7: after the 2019 exits 12 households with 48 people remain; 003:9: 1.24%.
    facts = village(48, 12, exited_people=1302, exited_households=266)
    result = evaluate(policy, facts, "village")
    assert result["poor_people"] == 48
    assert result["poverty_incidence_rounded"] == Decimal("0.0124")


def test_village_with_the_2019_incidence_and_all_facilities_exits(policy):
    # 003:9-15: the village checks every item of the exit list (002:179) and passes.
    facts = village(48, 12, exited_people=1302, exited_households=266)
    facts.update(road_hardened=True, power_10kv=True, tv_coverage="100%", broadband_village=True,
                 broadband_school=True, broadband_clinic=True, water_safe=True, clinic_standard=True,
                 venue=True, children_in_school=True)
    assert evaluate(policy, facts, "village")["village_exit_eligible"] is True


# --- D7: county one-time education aid, 002:143 -----------------------------------

def student_households(stage: str, count: int, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "registered": True, "status": "poor",
             "members": [{"age": 40, "school_stage": "none", "enrolled": False},
                         {"age": 18, "school_stage": stage, "enrolled": True}]}
            for i in range(count)]


def test_county_education_aid_for_634_108_277_students(policy):
    hs = (student_households("high", 634, "h") + student_households("vocational", 108, "v")
          + student_households("college", 277, "c"))
    county = {"id": "002-county", "townships": [{"id": "t", "villages": [{"id": "v", "households": hs}]}]}
    result = evaluate(policy, county, "county")
    # 634 × 3000 + 108 × 2000 + 277 × 8000 = 190.2万 + 21.6万 + 221.6万
    assert result["county_education_aid_total"] == Decimal(634 * 3000 + 108 * 2000 + 277 * 8000)
    assert result["county_education_aid_total"] == Decimal("4334000")


# --- D22: township work funds, 002:217 ---------------------------------------------

def test_township_work_funds_723_wan_for_9_townships(policy):
    relocated = sizes_for(5100, 9)      # relocated households per township
    poor = sizes_for(22200, 9)          # poor people per township
    townships = []
    for i in range(9):
        hs = households("poor", sizes_for(poor[i], poor[i] // 10), f"p{i}-", relocated=False)
        hs += households("ordinary", [1] * relocated[i], f"r{i}-", relocated=True)
        townships.append({"id": f"t{i}", "villages": [{"id": f"v{i}", "households": hs}]})
    county = {"id": "002-county", "townships": townships}
    result = evaluate(policy, county, "county")
    # 9 × 50万 (450万) + 5100 × 100 (51万) + 22200 × 100 (222万) = 723万
    assert result["county_township_work_funds_total"] == Decimal("7230000")
    one = evaluate(policy, townships[0], "township")
    assert one["township_work_funds"] == Decimal(500000 + 100 * relocated[0] + 100 * poor[0])


# --- D21: exit reward, 002:211 -----------------------------------------------------

def test_exit_reward_for_7096_households_split_2_3_5(policy):
    hs = households("exited", [3] * 7096, "x")
    county = {"id": "002-county", "townships": [{"id": "t", "villages": [{"id": "v", "households": hs}]}]}
    result = evaluate(policy, county, "county")
    assert result["county_exited_households"] == 7096
    assert result["exit_reward_total"] == Decimal("7096000")
    assert result["exit_reward_county_departments"] == Decimal("1419200")
    assert result["exit_reward_townships"] == Decimal("2128800")
    assert result["exit_reward_villages"] == Decimal("3548000")
    total = sum(result[k] for k in ("exit_reward_county_departments", "exit_reward_townships", "exit_reward_villages"))
    assert total == result["exit_reward_total"]


# --- D2: the Anhui public-welfare jobs, 001:31 -------------------------------------

def test_anhui_143_jobs_at_4000_do_not_make_the_reported_24_4_wan(policy):
    result = evaluate(policy, {"id": "zhaotan", "epidemic_public_welfare_jobs": 143}, "township", variant="anhui-2020")
    assert result["epidemic_job_fund"] == Decimal("572000")     # 57.2万
    assert result["epidemic_job_fund"] != Decimal("244000")     # the text's 24.4万
    assert Decimal("244000") / Decimal("4000") == 61            # what 24.4万 would pay for
