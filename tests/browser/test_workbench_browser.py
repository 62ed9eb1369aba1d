"""The workbench in Debian's chromium: every page in both languages, and the issue's
scenarios (a household's what-if, a GBK dataset from chart bar to explanation, an impact
comparison, a rule file's typo found and fixed as it is typed). Screenshots of each
page go to ``$FUPIN_SCREENSHOTS``."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "workbench"
PAGES = ["/", "/policy?file=household/monitoring.yaml", "/policy?variant=anhui-2020", "/household", "/dataset", "/impact",
         "/edit?file=household/monitoring.yaml"]
HEADINGS = {"zh": ["扶贫政策工作台", "政策文本", "政策文本", "农户评估", "数据集", "政策影响", "规则编辑"],
            "en": ["Poverty-alleviation policy workbench", "Policy", "Policy", "Household", "Dataset", "Impact",
                   "Edit rules"]}

# every form control a person uses has a name a screen reader reads
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)"""


def shot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_labelled_local_and_keyboard_reachable(page, server, shots, context, lang):
    for path, heading in zip(PAGES, HEADINGS[lang]):
        sep = "&" if "?" in path else "?"
        response = page.goto(f"{server}{path}{sep}lang={lang}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert heading in page.inner_text("h1"), path
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
        name = re.sub(r"[^a-z]+", "-", path.strip("/").split("?")[0] + ("-variant" if "variant" in path else "")) or "home"
        shot(page, shots, f"{name.strip('-')}-{lang}")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # past the skip link: a link or control of the page has focus
        assert page.evaluate("document.activeElement.tagName") in ("A", "INPUT", "SELECT", "BUTTON", "TEXTAREA")
    assert all(url.startswith(server) or url.startswith("data:") for url in context.requests), \
        [u for u in context.requests if not u.startswith(server)][:5]


def test_household_form_what_if_changes_the_tier(page, server, shots):
    page.goto(f"{server}/household?lang=zh")
    for name, value in {"f:id": "HH-demo", "f:income_per_capita": "4999"}.items():
        page.fill(f"[name='{name}']", value)
    for name, value in {"f:status": "exited", "f:food_secure": "true", "f:clothing_secure": "true",
                        "f:water_safe": "true", "f:housing_grade": "B", "f:risk_event": "false",
                        "c:members:0:medical_insured": "true", "c:members:0:enrolled": "false"}.items():
        page.select_option(f"[name='{name}']", value)
    page.fill("[name='c:members:0:age']", "45")
    page.keyboard.press("Tab")
    decision = page.locator("#results h2.decision")
    decision.filter(has_text="红色").wait_for()
    assert "预估当年人均纯收入" in page.inner_text("#results .reasons")
    # the what-if answer for yellow: apply it, the form changes, the tier follows
    page.locator(".apply-whatif").first.click()
    decision.filter(has_text="黄色").wait_for()
    assert page.input_value("[name='f:income_per_capita']") == "5000"
    # a fact toggled by hand: water no longer safe → red again
    page.select_option("[name='f:water_safe']", "false")
    decision.filter(has_text="红色").wait_for()
    page.locator(".add-row").click()
    assert page.locator("tr.child-row").count() == 2
    shot(page, shots, "household-whatif-zh")
    # the permalink reproduces the decision
    href = page.get_attribute("a.permalink", "href")
    page.goto(f"{server}{href}")
    assert "红色" in page.inner_text("h2.decision")


def _wait_job(page):
    page.wait_for_selector(".downloads, .error", timeout=60_000)


def test_gbk_dataset_from_chart_bar_to_explanation(page, server, shots):
    page.goto(f"{server}/dataset?lang=zh")
    page.set_input_files("#file", str(FIXTURES / "households_gbk.csv"))
    page.set_input_files("#members", str(FIXTURES / "members_gbk.csv"))
    page.click("button.primary")
    _wait_job(page)
    page.wait_for_selector("section.output-chart svg")
    assert "红旗村" in page.content()                       # GBK village names decoded
    assert "不详" in page.inner_text("table.quarantine")    # the malformed row and its reason
    shot(page, shots, "dataset-zh")
    page.locator("section.output-chart[data-output=monitoring_tier] .chart-scroll svg a.bar").first.click()
    page.wait_for_selector("ul.households a")
    assert "红旗村" in page.inner_text("h1") or "村" in page.inner_text("h1")
    page.locator("ul.households a").first.click()
    page.wait_for_selector("h2.decision")
    assert "监测等级" in page.inner_text("h2.decision")
    shot(page, shots, "dataset-household-zh")


def test_impact_of_a_variant_links_both_explanations(page, server, shots):
    page.goto(f"{server}/impact?lang=zh")
    page.set_input_files("#file", str(FIXTURES / "households_gbk.csv"))
    page.set_input_files("#members", str(FIXTURES / "members_gbk.csv"))
    page.select_option("#variant_b", "anhui-2020")
    page.click("button.primary")
    _wait_job(page)
    page.wait_for_selector("table.changed a")
    assert page.locator(".diff-report svg").count() >= 1     # transition matrices, money bars
    shot(page, shots, "impact-zh")
    page.locator("table.changed a", has_text="设置 B").first.click()
    page.wait_for_selector("h2.decision")
    assert "anhui-2020" in page.inner_text(".explanation .muted")


def test_rule_typo_is_marked_on_its_line_then_goes(page, server, shots):
    page.goto(f"{server}/edit?file=household/monitoring.yaml&lang=zh")
    area = page.locator("#editor")
    original = area.input_value()
    line = original.splitlines().index("    expr: risk_event 或 非 guarantees_met") + 1
    area.fill(original.replace("expr: risk_event 或", "expr: risk_evnt 或"))
    error = page.locator(f"#diagnostics li.diag.error[data-line='{line}']")
    error.wait_for()
    assert "risk_evnt" in error.inner_text() and "E301" in error.inner_text()
    assert "^" in error.locator("pre.caret").inner_text()
    assert page.locator(f".gutter #L{line}.mark.error").count() == 1
    assert page.locator("#diagnostics li").first.get_attribute("data-line") == str(line)   # errors first
    error.locator("a").click()                      # the line is selected in the text
    assert page.evaluate("document.activeElement.id") == "editor"
    shot(page, shots, "edit-typo-zh")
    area.fill(original)
    error.wait_for(state="detached")
    assert page.locator("#diagnostics li.diag.error").count() == 0
    assert page.locator(f".gutter #L{line}.mark").count() == 0
