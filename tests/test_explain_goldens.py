"""Golden explanations, zh and en, for every kind of decision: an expression, each hit
policy (first, unique, priority, collect), an exception, an aggregation over children, an
unknown output (with its possible values), an error, and the pack's own tier (a guarantee
failed through a fact of the household, and through a member named by its declared title).

Regenerate with ``FUPIN_REGOLD=1 pytest tests/test_explain_goldens.py`` and read the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import as_installed, policy_at

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "explain"
COLUMNAR = str(ROOT / "tests" / "fixtures" / "columnar")

MEMBERS = [{"age": 40, "labor": "full", "enrolled": False, "pay": 0},
           {"age": 12, "labor": "none", "enrolled": True, "pay": 500}]
HOUSE = {"id": "G1", "status": "exited", "income": 4200, "line": 6000, "share": "0.2", "risk": False,
         "members": MEMBERS}

CASES = [
    # name, policy, output, facts, on
    ("expression", COLUMNAR, "either", HOUSE, None),
    ("hit_first", COLUMNAR, "tier_first", {**HOUSE, "income": 7000}, None),
    ("hit_unique", COLUMNAR, "tier_unique", HOUSE, None),
    ("hit_priority", COLUMNAR, "tier_priority", {**HOUSE, "income": 12000, "risk": True}, None),
    ("hit_collect", COLUMNAR, "points_sum", {**HOUSE, "status": "poor", "risk": True}, None),
    ("exception", COLUMNAR, "subsidy", {**HOUSE, "status": "ordinary"}, None),
    ("aggregation", COLUMNAR, "pay_total", HOUSE, None),
    ("unknown", COLUMNAR, "tier_first", {k: v for k, v in HOUSE.items() if k != "income"}, None),
    ("error", COLUMNAR, "late", HOUSE, "2018-06-30"),
    ("pack_water", str(ROOT / "policy"), "monitoring_tier",
     {"id": "HW", "registered": True, "status": "exited", "income_per_capita": 8000, "food_secure": True,
      "clothing_secure": True, "water_safe": False, "housing_grade": "B", "risk_event": False,
      "members": [{"age": 45, "labor": "full", "medical_insured": True, "school_stage": "none", "enrolled": False},
                  {"age": 12, "labor": "none", "medical_insured": True, "school_stage": "primary",
                   "enrolled": True}]}, None),
    ("pack_child", str(ROOT / "policy"), "monitoring_tier",  # a member named by the pack's title
     {"id": "HC", "registered": True, "status": "exited", "income_per_capita": 12000, "food_secure": True,
      "clothing_secure": True, "water_safe": True, "housing_grade": "A", "risk_event": False,
      "members": [{"age": 40, "labor": "full", "medical_insured": True, "school_stage": "none", "enrolled": False},
                  {"age": 12, "labor": "none", "medical_insured": True, "school_stage": "none",
                   "enrolled": False}]}, None),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name, path, output, facts, on", CASES, ids=[c[0] for c in CASES])
def test_explanation_golden(name, path, output, facts, on, lang):
    text = policy_at(path).explain(facts, output, on=on, lang=lang, depth=None) + "\n"
    golden = GOLDEN / f"{name}.{lang}.txt"
    if os.environ.get("FUPIN_REGOLD"):
        golden.write_text(text, encoding="utf-8")
    want = golden.read_text(encoding="utf-8")
    assert text == (as_installed(want) if path == str(ROOT / "policy") else want)
