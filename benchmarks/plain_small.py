"""The benchmark ruleset (small_policy/) hand-written in plain Python, one household at a time.

The yardstick of fupin's generated scalar code (engine/scalar/codegen.py): what an
engineer would write for the six outputs knowing the facts are complete and valid. It
reads the same validated facts as ``Program.evaluate`` (money as ``Decimal``, enum
values as their names, members as a list of dicts) and returns the same values.
"""
from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)
# in force on 2020-06-30 (small_policy/household.yaml)
EXIT_INCOME_LINE = Decimal(4000)
SCHOOL_AGE_MIN, SCHOOL_AGE_MAX = 6, 15
RED_LINE, GREEN_LINE = Decimal(5000), Decimal(10000)
EDU_AID = {"high": Decimal(3000), "vocational": Decimal(2000), "college": Decimal(8000)}
JOB_PAY = Decimal(400)
MEASURE = {"red": "fill", "yellow": "support", "green": "guide", "none": "none"}


def evaluate(h: dict) -> dict:
    """The six outputs of one household whose facts are all known."""
    members = h["members"]
    education_ok = all(m["enrolled"] for m in members if SCHOOL_AGE_MIN <= m["age"] <= SCHOOL_AGE_MAX)
    medical_ok = all(m["medical_insured"] for m in members)
    guarantees = (h["food_secure"] and h["clothing_secure"] and h["water_safe"] and h["housing_grade"] in ("A", "B")
                  and education_ok and medical_ok)
    status, income = h["status"], h["income_per_capita"]
    tier = _tier(status, income, guarantees, h["risk_event"])
    registered = h["registered"]
    aid = job = ZERO
    for m in members:
        if registered and m["enrolled"]:
            aid += EDU_AID.get(m["school_stage"], ZERO)
        if registered and m["public_welfare_job"]:
            job += JOB_PAY
    return {"guarantees_met": guarantees,
            "exit_eligible": status == "poor" and income > EXIT_INCOME_LINE and guarantees,
            "monitoring_tier": tier, "monitoring_measure": MEASURE[tier],
            "education_aid_once": aid, "public_welfare_job_subsidy_monthly": job}


def _tier(status: str, income: Decimal, guarantees: bool, risk: bool) -> str:
    if status in ("monitored", "edge"):
        return "red"
    if status == "exited":
        if income < RED_LINE or risk or not guarantees:
            return "red"
        return "yellow" if income < GREEN_LINE else "green"
    if status == "ordinary" and income < RED_LINE and (risk or not guarantees):
        return "red"
    return "none"
