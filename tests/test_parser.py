"""The expression parser: a table of inputs and the AST (or error) they give."""
from decimal import Decimal

import pytest

from fupin.dsl import ast as a
from fupin.dsl.parser import ParseFailure, parse_expression, parse_unary_test

N = a.Name


@pytest.mark.parametrize("text, expected", [
    ("16", a.Num(16, "integer")),
    ("0.5", a.Num(Decimal("0.5"), "decimal")),
    ("3%", a.Num(Decimal("0.03"), "ratio")),
    ("400元", a.Num(Decimal(400), "money")),
    ("6万元", a.Num(Decimal(60000), "money")),
    ("0.5万元", a.Num(Decimal(5000), "money")),
    ("6万", a.Num(60000, "integer")),
    ("是", a.Bool(True)),
    ("false", a.Bool(False)),
    ("人均纯收入", N("人均纯收入")),
    ("是否脱贫", N("是否脱贫")),
    ("income", N("income")),
    ("a - b * c", a.Arith((N("a"), a.Arith((N("b"), N("c")), ("*",))), ("-",))),
    ("5000 <= x < 10000", a.Compare((a.Num(5000, "integer"), N("x"), a.Num(10000, "integer")), ("<=", "<"))),
    ("x = 1", a.Compare((N("x"), a.Num(1, "integer")), ("==",))),
    ("a 且 b 或 非 c", a.Or((a.And((N("a"), N("b"))), a.Not(N("c"))))),
    ("a and b or not c", a.Or((a.And((N("a"), N("b"))), a.Not(N("c"))))),
    ("x in [5000, 10000)", a.In(N("x"), a.Interval(a.Num(5000, "integer"), a.Num(10000, "integer"), True, False))),
    ("s not in {p, q}", a.In(N("s"), a.SetLit((N("p"), N("q"))), True)),
    ("if c then 1 else 2", a.If(N("c"), a.Num(1, "integer"), a.Num(2, "integer"))),
    ("如果 c 则 1 否则 2", a.If(N("c"), a.Num(1, "integer"), a.Num(2, "integer"))),
    ("household.status", a.Attr(N("household"), "status")),
    ("min(a, b)", a.Call("min", (N("a"), N("b")))),
    ("count(members)", a.Call("count", (N("members"),))),
    ("count(members where age >= 16)", a.Agg("count", N("members"), a.Compare((N("age"), a.Num(16, "integer")), (">=",)), None)),
    ("sum(members where e, x)", a.Agg("sum", N("members"), N("e"), N("x"))),
    ("sum(members: x)", a.Agg("sum", N("members"), None, N("x"))),
    ("sum(members, x)", a.Call("sum", (N("members"), N("x")))),
])
def test_parses(text, expected):
    assert parse_expression(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("< 5000", a.TestCompare("<", a.Num(5000, "integer"))),
    ("[5000, 10000)", a.TestIn(a.Interval(a.Num(5000, "integer"), a.Num(10000, "integer"), True, False))),
    ("(0, 3%]", a.TestIn(a.Interval(a.Num(0, "integer"), a.Num(Decimal("0.03"), "ratio"), False, True))),
    ("{a, b}", a.TestIn(a.SetLit((N("a"), N("b"))))),
    ("not {a}", a.TestNot(a.TestIn(a.SetLit((N("a"),))))),
    ("poor", a.TestEqual(N("poor"))),
    ("any", a.TestAny()),
    ("-", a.TestAny()),
])
def test_unary_tests(text, expected):
    assert parse_unary_test(text) == expected


@pytest.mark.parametrize("text, code, offset", [
    ("1 +", "E202", 3),
    ("a $ b", "E201", 2),
    ("(a", "E202", 2),
    ("a b", "E201", 2),
    ("2020-02-30", "E201", 0),
    ("(" * 60 + "1" + ")" * 60, "E205", 50),
    ("x" * 5000, "E206", 4000),
    ("- " * 200 + "x", "E205", None),
])
def test_errors(text, code, offset):
    with pytest.raises(ParseFailure) as info:
        parse_expression(text)
    assert info.value.code == code
    if offset is not None:
        assert info.value.offset == offset


def test_offsets_point_into_the_text():
    node = parse_expression("a 且 bb")
    assert [(i.start, i.end) for i in node.items] == [(0, 1), (4, 6)]
