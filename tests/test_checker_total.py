"""The checker is total: every broken input ends in located diagnostics, never a
traceback (issue 13). Each case is the pack with one text replaced; the expected codes
must be among the diagnostics, and every diagnostic renders in zh and en without a
library's English prose."""
from __future__ import annotations

import pytest

from fupin.dsl.parser import ParseFailure, parse_expression
from fupin.dsl.syntax import MAX_NODES

from checkercases import LIBRARY_WORDS, PackCopy, rendered

M = "household/monitoring.yaml"
EXPR = "expr: risk_event 或 非 guarantees_met"
CELL = '收入: "< monitoring_red_income_line"'

CASES = [
    # (id, file, old, new, codes that must appear)
    ("enum-typo-in-cell", M, "状态: poor\n", "状态: pooor\n", {"E304"}),
    ("undefined-interval-bound", M, '"[monitoring_red_income_line, monitoring_green_income_line)"',
     '"[monitoring_red_income_line, no_such_param)"', {"E301"}),
    ("cell-a-minus-b", M, CELL, "收入: a-b", {"E301"}),
    ("date-in-money-column", M, CELL, "收入: 2020-01-01", {"E207"}),
    ("enum-value-in-money-column", M, CELL, "收入: red", {"E301"}),
    ("nul-first", M, EXPR, 'expr: "\\0risk_event"', {"E201"}),
    ("escape-char", M, EXPR, 'expr: "risk_event \\e"', {"E201"}),
    ("key-with-brackets", M, "rules:\n", 'rules:\n  "a[b]": 1\n', {"E103"}),
    ("top-key-with-brackets", M, "entity: household\n", 'entity: household\n"a[b]": 1\n', {"E103"}),
    ("tag-timestamp", M, "2020-01-01: 5000", "!!timestamp 2020-01-01member: 5000", {"E821"}),
    ("tag-float", M, "2020-01-01: 5000", "2020-01-01: !!float abc", {"E101"}),
    ("huge-literal", M, EXPR, "expr: income_per_capita * 9999999999999999999999999999 > 1元", {"E822"}),
    ("product-overflow", M, EXPR, "expr: income_per_capita * 999999999 * 99999999 > 1元", {"E703"}),
    ("round-places", M, EXPR, "expr: round(income_per_capita, 30) > 1元", {"E208"}),
    ("integer-vs-money", M, EXPR, "expr: any(members, age >= 80元)", {"E407"}),
    ("integer-vs-percent", M, EXPR, "expr: any(members, age < 80%)", {"E407"}),
    ("integer-plus-money", M, EXPR, "expr: any(members, age + 80元 > 1元)", {"E407"}),
    ("ratio-without-percent", "village/exit.yaml", "poverty_incidence < exit_incidence_limit",
     "poverty_incidence < 3", {"E407"}),
    ("full-width-colon", M, "entity: household", "entity： household\nx", {"E101"}),
    ("tab-indent", M, "rules:\n  poverty_risk:", "rules:\n\tpoverty_risk:", {"E101"}),
    ("words-comparison-cell", M, CELL, '收入: "小于 5000"', {"E201"}),
    ("full-width-parens", M, EXPR, "expr: （risk_event）", {"E201"}),
]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return PackCopy(tmp_path_factory.mktemp("total"))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input_is_located_diagnostics(pack, case):
    _, file, old, new, codes = case
    text = pack.original(file)
    assert old in text, f"the pack changed: {old!r} is gone from {file}"
    diags = pack.check(file, text.replace(old, new, 1))
    assert codes <= {d.code for d in diags}, [d.render("en") for d in diags]
    out = rendered(diags)
    zh = "\n".join(d.render("zh") for d in diags)
    assert not [w for w in LIBRARY_WORDS if w in zh], zh
    assert "Traceback" not in out


@pytest.mark.parametrize("new, hint", [
    ('收入: "小于 5000"', "`< 5000`"),
    ('收入: "5000以上"', "`>= 5000`"),
])
def test_slip_hints_in_cells(pack, new, hint):
    diags = pack.check(M, pack.original(M).replace(CELL, new, 1))
    assert any(hint in (d.hint("zh") or "") for d in diags), [d.render("zh") for d in diags]


def test_full_width_colon_hint(pack):
    diags = pack.check(M, pack.original(M).replace("entity: household", "entity： household\nx", 1))
    assert any("全角" in (d.hint("zh") or "") and "`:`" in d.hint("zh") for d in diags)
    assert any("full-width" in (d.hint("en") or "") for d in diags)


def test_tab_hint(pack):
    diags = pack.check(M, pack.original(M).replace("rules:\n  poverty_risk:", "rules:\n\tpoverty_risk:", 1))
    assert [d.message("zh") for d in diags if d.code == "E101"] == ["YAML 语法错误：不能用制表符（Tab）缩进"]


def test_pydantic_words_are_ours(pack):
    diags = pack.check(M, pack.original(M).replace("    type: money\n", "    type: [money]\n", 1))
    messages = [d.message("zh") for d in diags if d.code == "E103"]
    assert messages == ["`parameters.monitoring_red_income_line.type`：应为文本"]


def _nodes(text):
    from fupin.dsl import ast

    return sum(1 for _ in ast.walk(parse_expression(text)))


@pytest.mark.parametrize("make", [
    lambda k: "+".join(["1"] * k),
    lambda k: " 且 ".join(["a"] * k),
    lambda k: "x in {" + ",".join(["a"] * k) + "}",
    lambda k: "min(" + ",".join(["a"] * k) + ")",
    lambda k: "+".join(["1元"] * k),
])
def test_documented_node_limit_is_enforced(make):
    """docs/errors.md (E206) and docs/policy-language.md say 1,000 nodes: an expression
    of exactly 1,000 nodes parses, one node more is E206, whatever its shape."""
    k = next(k for k in range(1, 2000) if _count_or_none(make(k + 1)) is None)
    assert _nodes(make(k)) in (MAX_NODES - 1, MAX_NODES)
    with pytest.raises(ParseFailure) as exc:
        parse_expression(make(k + 1))
    assert exc.value.code == "E206"


def _count_or_none(text):
    try:
        return _nodes(text)
    except ParseFailure:
        return None
