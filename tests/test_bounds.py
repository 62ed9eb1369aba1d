"""Bounded, total input handling: a corpus of hostile numbers and YAML tags, as tables.

Every number is bounded before arithmetic (dsl/coerce.py: |x| <= 10^15, at most 20
decimals, at most 100 characters of text), every arithmetic result too
(engine/core/operators.py: E720, in both evaluators), and YAML tags outside the core
schema are refused (dsl/yamlsrc.py: E821). The same corpus goes through coerce, the YAML
reader, the API, ``fupin eval`` and ``fupin batch``: only located fupin diagnostics, one
bad entity never costs the others their results, and nothing takes more than a moment.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl.coerce import MAX_MAGNITUDE, BoundError, CoerceError, coerce, within_bounds
from fupin.dsl.errors import FupinError
from fupin.dsl.types import Type
from fupin.dsl.yamlsrc import load_yaml
from fupin.engine.api import load_policy
from fupin.engine.columnar.frame import from_records
from fupin.engine.columnar.program import ColumnarProgram
from fupin.engine.core import operators as ops

ROOT = Path(__file__).resolve().parent.parent
BOUNDS = ROOT / "tests" / "fixtures" / "bounds"
ON = dt.date(2020, 6, 30)

# (raw value, kind, expected: a value, or the code of the CoerceError)
COERCE = [
    ("1e1000000", "money", "E820"), ("1e1000000", "integer", "E820"), ("9e999999", "integer", "E820"),
    ("-9e999999", "decimal", "E820"), ("1e-1000000", "ratio", "E820"), ("1e-1000000", "money", "E820"),
    ("1e27", "money", "E820"), ("1e16", "integer", "E820"), ("1e15", "integer", 10 ** 15),
    ("-1e15", "money", Decimal("-1e15")), ("1000000000000000.01", "money", "E820"),
    ("999999999999999.99", "money", Decimal("999999999999999.99")), ("9" * 5000, "integer", "E820"),
    ("1" * 101, "money", "E820"), (10 ** 16, "integer", "E820"), (-(10 ** 15), "integer", -(10 ** 15)),
    (10 ** 5000, "money", "E820"), (Decimal("1E+999999999999999999"), "decimal", "E820"),
    ("0.00000000000000000001", "ratio", Decimal("1E-20")), ("0.000000000000000000001", "ratio", "E820"),
    ("1.000000000000000000000000000000", "decimal", Decimal("1")), ("0.30000000000000004", "ratio", Decimal("0.30000000000000004")),
    ("NaN", "money", "E802"), ("nan", "decimal", "E802"), ("sNaN", "decimal", "E802"), ("Infinity", "money", "E802"),
    ("-inf", "ratio", "E802"), (float("inf"), "money", "E802"), (float("nan"), "integer", "E802"),
    (Decimal("NaN"), "decimal", "E802"), ("-0", "integer", 0), ("-0", "money", Decimal("-0")),
    ("４９９９", "money", Decimal("4999")), ("１２３", "integer", 123), ("١٢٣", "integer", "E802"),
    ("1_000", "integer", "E802"), ("0x10", "integer", "E802"), ("0b11", "integer", "E802"),
    (True, "integer", "E802"), (False, "money", "E802"), ("true", "integer", "E802"),
    ("2020-02-30", "date", "E802"), ("2020-02-30", "money", "E802"), ("２０２０-０６-３０", "date", dt.date(2020, 6, 30)),
    ("２０２０－０６－３０", "date", dt.date(2020, 6, 30)), ("２０２０-０２-３０", "date", "E802"), ("x" * 10_000, "date", "E802"), (dt.date(2020, 2, 29), "date", dt.date(2020, 2, 29)),
    ("6万", "money", Decimal("60000")), ("9e999999万", "money", "E820"), ("1e-1000000%", "ratio", "E820"),
    ("3%", "ratio", Decimal("0.03")), ("4,999.50", "money", Decimal("4999.50")), ("1e3", "integer", 1000),
    ("", "money", "E802"), ("   ", "integer", "E802"), ("1e", "money", "E802"), ("--1", "money", "E802"),
]


def _id(raw) -> str:
    return f"int of {raw.bit_length()} bits" if isinstance(raw, int) and raw > 10 ** 100 else str(raw)[:20]


@pytest.mark.parametrize("raw, kind, expected", COERCE, ids=[f"{k}:{_id(r)}" for r, k, _ in COERCE])
def test_coerce_bounds_every_number_before_conversion(raw, kind, expected):
    start = time.process_time()  # CPU time: a number expanded digit by digit would take it; a busy machine does not
    if isinstance(expected, str) and expected.startswith("E"):
        with pytest.raises(CoerceError) as info:
            coerce(raw, Type(kind))
        assert info.value.code == expected
        assert isinstance(info.value, BoundError) == (expected == "E820")
    else:
        value = coerce(raw, Type(kind))
        assert value == expected and type(value) is type(expected)
    assert time.process_time() - start < 0.05


@pytest.mark.parametrize("value, ok", [
    (0, True), (MAX_MAGNITUDE, True), (MAX_MAGNITUDE + 1, False), (Decimal("1e15"), True),
    (Decimal("1.0000000000000000000001e15"), False), (Decimal("1e-20"), True), (Decimal("1e-21"), False),
    (Decimal("1.00000000000000000000000000000000000000"), True), (Decimal("-0"), True), (Decimal("NaN"), False),
])
def test_within_bounds_is_exact(value, ok):
    assert within_bounds(value) is ok


# (YAML text, expected data, or (code, line, col) of the one diagnostic)
YAML = [
    ("a: !!timestamp 2020-01-01\n", ("E821", 1, 4)), ("a: !!binary aGVsbG8=\n", ("E821", 1, 4)),
    ("a: !!python/object:os.system x\n", ("E821", 1, 4)), ("a: !!python/name:os.system\n", ("E821", 1, 4)),
    ("a: !custom x\n", ("E821", 1, 4)), ("!!set {a, b}\n", ("E821", 1, 1)), ("a: !!omap [b: 1]\n", ("E821", 1, 4)),
    ("a: !!pairs [b: 1]\n", ("E821", 1, 4)), ("b: 1\n<<: {c: 2}\n", ("E821", 2, 1)),
    ("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", ("E821", 3, 4)),
    ("a: !!float abc\n", ("E101", 1, 4)), ("a: !!int x\n", ("E101", 1, 4)), ("a: !!bool x\n", ("E101", 1, 4)),
    ("a: !!float 1e5\nb: !!str 12\nc: !!int 7\nd: !!null ~\n", {"a": Decimal("1e5"), "b": "12", "c": 7, "d": None}),
    ("a: 2020-02-30\n", {"a": "2020-02-30"}), ("2020-02-30: 1\n", {"2020-02-30": 1}),
    ("a: 012\nb: 1:20\nc: 0x1F\nd: 1_000\n", {"a": 12, "b": "1:20", "c": 31, "d": 1000}),
    ("a: " + "9" * 5000 + "\n", {"a": "9" * 5000}), ("a: 1e1000000\nb: 1.0e+1000000\n", {"a": "1e1000000", "b": Decimal("1.0e+1000000")}),
    ("a: .inf\nb: -.inf\n", {"a": float("inf"), "b": float("-inf")}),
]


@pytest.mark.parametrize("text, expected", YAML, ids=[t[:30] for t, _ in YAML])
def test_yaml_reads_the_core_schema_only(text, expected):
    if isinstance(expected, tuple):
        with pytest.raises(FupinError) as info:
            load_yaml(text, "f.yaml")
        (diag,) = info.value.diagnostics
        assert (diag.code, diag.span.line, diag.span.col) == expected
    else:
        assert load_yaml(text, "f.yaml")[0] == expected


def test_the_tag_is_named_in_both_languages():
    with pytest.raises(FupinError) as info:
        load_yaml("a: !!timestamp 2020-01-01\n", "f.yaml")
    assert info.value.diagnostics[0].message("en") == "YAML tag `!!timestamp` is not allowed"
    assert info.value.diagnostics[0].message("zh") == "不允许使用 YAML 标签 `!!timestamp`"


# --- arithmetic: operators.py and both evaluators


@pytest.fixture(scope="module")
def bounds():
    return load_policy(BOUNDS)


BIG = {"id": "big", "income": 10 ** 15, "bonus": 1, "size": 2, "count": 10 ** 15, "share": "0.00000000000000000001",
       "area": 10 ** 15, "members": [{"pay": 10 ** 15}, {"pay": 10 ** 15}]}
SMALL = {"id": "small", "income": 100, "bonus": 1, "size": 2, "count": 3, "share": "0.5", "area": "2.5",
         "members": [{"pay": 1}]}
E720 = {"total", "scaled", "scaled_back", "squared", "sum_sizes", "per_share", "area_sq", "tripled", "thousandfold",
        "chained", "pay_plus", "guarded", "pay_sum", "pay_sum_known"}


def test_a_sum_beyond_the_bound_is_an_error_not_a_wrapped_number(bounds):
    assert bounds.evaluate(WRAPS, on=ON).errors["pay_sum"].message_en == (
        "`sum(members, pay)`: the result is beyond the number bounds (|x| ≤ 10^15)")
    assert bounds.evaluate(CANCELS, on=ON).values["pay_sum"] == 0
    assert bounds.evaluate(WAITS, on=ON).unknown["pay_sum"] == ["members[99].pay"]


def test_overflow_is_an_error_of_that_output_located_at_the_expression(bounds):
    result = bounds.evaluate(BIG, on=ON)
    assert set(result.errors) == E720
    assert {e.code for e in result.errors.values()} == {"E720"}
    assert result.errors["scaled"].location.endswith("household.yaml:6:50")
    assert result.errors["scaled"].message_en == "`income * size`: the result is beyond the number bounds (|x| ≤ 10^15)"
    assert result.values["gap"] == Decimal("999999999999999") and result.values["plain"] == 10 ** 15
    assert result.values["per_head"] == 5 * 10 ** 14
    assert not bounds.evaluate(SMALL, on=ON).errors


WRAPS = {"id": "wraps", "members": [{"pay": 10 ** 15}] * 100}  # 10^19 fen: an int64 sum would wrap
CANCELS = {"id": "cancels", "members": [{"pay": 10 ** 15}, {"pay": -(10 ** 15)}] * 100}
WAITS = {"id": "waits", "members": [{"pay": 10 ** 15}] * 99 + [{}]}


@pytest.mark.parametrize("rows", [[BIG, SMALL], [SMALL, BIG, SMALL], [dict(BIG, income=-(10 ** 15), count=-(10 ** 15))],
                                  [WRAPS, CANCELS, WAITS, SMALL]])
def test_the_columnar_evaluator_errs_in_the_same_rows(bounds, rows):
    program = bounds.program()
    checker = bounds.facts_checker()
    records = [checker.validate(r, "household")[0] for r in rows]
    frame = from_records(program.checked, "household", records)
    cp = ColumnarProgram(program)
    ref, got = cp.reference(frame, ON), cp.evaluate(frame, ON)
    for name in ref.outputs:
        assert np.array_equal(ref.error[name], got.error[name]), name
        assert ref.decode(name) == got.decode(name), name


@pytest.mark.parametrize("x, y, limit, over", [
    (10 ** 15, 2, 10 ** 15, True), (10 ** 15, 1, 10 ** 15, False), (0, 10 ** 18, 10, False),
    (-(10 ** 9), 10 ** 9, 10 ** 17, True), (10 ** 8, 10 ** 9, 10 ** 17, False), (3 * 10 ** 9, 10 ** 9, 2 ** 62, False), (2 ** 31, 2 ** 31, 2 ** 62, False), (2 ** 31, 2 ** 31 + 1, 2 ** 62, True),
])
def test_product_beyond_is_exact_without_multiplying(x, y, limit, over):
    got = ops.product_beyond(np.array([x], dtype=np.int64), np.array([y], dtype=np.int64), limit)
    assert bool(got[0]) is over is (abs(x * y) > limit)


@pytest.mark.parametrize("n", [0, 2, 60, 61, 10 ** 15, -16, -(10 ** 15)])
def test_round_is_total(n):
    value = ops.round_half_up(Decimal("123456789012345.125"), n)
    assert abs(value) <= Decimal(10 ** 15)


# --- the entry points: API, fupin eval, fupin batch

HOSTILE = ["1e1000000", "9e999999", "1e-1000000", "NaN", "Infinity", "-Infinity", "1e27", "١٢٣", "0x1F", "1_000",
           "9" * 5000, True]


def _household(i, income):
    return {"id": f"H{i}", "registered": True, "status": "exited", "income_per_capita": income}


@pytest.fixture(scope="module")
def pack():
    return load_policy(ROOT / "policy")


@pytest.mark.parametrize("value", HOSTILE, ids=[str(v)[:12] for v in HOSTILE])
def test_api_raises_only_located_fupin_errors(pack, value):
    start = time.process_time()
    with pytest.raises(FupinError) as info:
        pack.evaluate(_household(0, value))
    assert info.value.code in ("E802", "E820")
    assert time.process_time() - start < 1


def test_eval_refuses_a_file_with_a_tag_at_the_tag(tmp_path, monkeypatch):
    path = tmp_path / "h.yaml"
    path.write_text("- {id: H1, registered: true, status: exited}\n"
                    "- {id: H2, registered: true, status: exited, assessed_on: !!timestamp 2020-01-01}\n", encoding="utf-8")
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(main, ["eval", "policy", str(path), "--lang", "en"], catch_exceptions=False)
    assert out.exit_code == 1
    assert f"{path}:2:59: error[E821]: YAML tag `!!timestamp` is not allowed" in out.output


def test_eval_of_hostile_numbers_locates_each_and_keeps_the_rest(tmp_path, monkeypatch):
    lines = [_household(0, 4999)] + [_household(i + 1, v) for i, v in enumerate(HOSTILE)] + [_household(99, 6000)]
    path = tmp_path / "h.json"
    path.write_text(json.dumps(lines, ensure_ascii=False, indent=0), encoding="utf-8")
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(main, ["eval", "policy", str(path), "--format", "json", "--lang", "en"],
                                             catch_exceptions=False)
    assert out.exit_code == 1
    items = json.loads(out.stdout)
    assert [i["results"] is not None for i in items] == [True] + [False] * len(HOSTILE) + [True]
    for item in items[1:-1]:
        (diag,) = item["invalid"]
        assert diag["code"] in ("E802", "E820") and diag["file"] == str(path) and diag["line"] > 1
    codes = [item["invalid"][0]["code"] for item in items[1:-1]]
    assert codes.count("E820") == 5 and items[-1]["id"] == "H99"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_quarantines_hostile_cells_and_accounts_for_every_row(tmp_path, monkeypatch, suffix):
    values = ["1e1000000", "9e999999", "1e-1000000", "99999999999999999", "1e27", "NaN", "-0", "１２３", "4999"]
    path = tmp_path / f"h{suffix}"
    if suffix == ".jsonl":
        rows = [json.dumps({"id": f"H{i}", "status": "exited", "income_per_capita": v, "members": []})
                for i, v in enumerate(values)]
        rows += ['{"id": "N1", "status": "exited", "income_per_capita": 1e1000000, "members": []}',
                 '{"id": "N2", "status": "exited", "income_per_capita": 12345678901234567890, "members": []}']
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    else:
        path.write_text("id,status,income_per_capita\n" + "".join(f"H{i},exited,{v}\n" for i, v in enumerate(values)),
                        encoding="utf-8")
    joins = []
    if suffix == ".csv":  # a CSV of households names its members file (E816 otherwise): here, none have any
        (tmp_path / "members.csv").write_text("household_id,age\n", encoding="utf-8")
        joins = ["--members", str(tmp_path / "members.csv")]
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(main, ["batch", "policy", str(path), *joins, "-o", str(tmp_path / "out.csv"),
                                    "--lang", "en"], catch_exceptions=False)
    quarantine = (tmp_path / "out.quarantine.csv").read_text(encoding="utf-8")
    bad = 6 + (2 if suffix == ".jsonl" else 0)
    assert f"rows quarantined {bad}" in out.output, out.output
    assert quarantine.count("E820") == bad - 1 and quarantine.count("E802") == 1


@pytest.mark.parametrize("expr, ok", [
    ("income * 100000000000000000000", False), ("income * 1000000000000000", True), ("income + 10000000000000000元", False),
    ("income * 0.000000000000000000001", False), ("income * 2万", True), ("income + 2000000000万元", True), ("income + 20000000亿元", False),
])
def test_number_literals_obey_the_bounds_at_check_time(tmp_path, expr, ok):
    from fupin.dsl.checker import check_all
    from fupin.dsl.loader import load_source

    for name in ("declarations.yaml",):
        text = (BOUNDS / name).read_text(encoding="utf-8").replace("../../../../shared", str(ROOT.parent / "shared"))
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "household.yaml").write_text(
        f'entity: household\nrules:\n  r: {{type: money, source: "001:78", expr: "{expr}"}}\n', encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path))
    codes = [d.code for d in diags if d.severity == "error"]
    assert codes == ([] if ok else ["E822"])
    if not ok:
        (diag,) = [d for d in diags if d.code == "E822"]
        assert diag.span.line == 3 and diag.span.col > 40


@pytest.mark.parametrize("text, places", [("1.50", 1), ("1.0000000000000000000000000", 0), ("0.125", 3), ("1E+3", 0),
                                          ("1E-30", 30), ("-0.000", 0)])
def test_decimals_drop_trailing_zeros(text, places):
    from fupin.dsl.coerce import decimals

    assert decimals(Decimal(text)) == places
