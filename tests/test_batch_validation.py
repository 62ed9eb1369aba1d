"""Property tests: batch validation decides exactly as FactsChecker, row by row.

Random households (with members) are drawn for a set of fields covering every kind and
bounds: for each column an input type (text, int64, float64, bool, decimal, date,
timestamp, null) and then values of that type — valid values, boundaries, odd spellings
(``6万``, ``3%``, `` 12 ``, ``1e3``, Arabic digits), NaN, huge numbers, wrong types. The
columnar validation (engine/batch/validate.py) must reject exactly the rows the scalar
FactsChecker rejects and type the others to the same values. The same holds for Python
values of any mix of types (JSON lines pyarrow cannot read) and for all-text rows (CSV).

The one documented difference: a whole number beyond 64 bits is valid for the scalar
checker but cannot be held in a column; batch quarantines it with E810 (``marks``).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.engine.batch.columns import convert
from fupin.engine.batch.levels import from_records, from_table
from fupin.engine.batch.validate import Validator
from fupin.engine.columnar.frame import encode_value, to_records

ROOT = Path(__file__).resolve().parent.parent

# household fields of policy/entities.yaml, one or more of every kind and bound
HOUSEHOLD = {"id": "string", "registered": "bool", "status": "enum", "housing_grade": "enum",
             "income_per_capita": "money", "relocation_loan_year": "integer", "unemployed_count": "integer",
             "inpatient_selfpay_share": "ratio", "planned_floor_area": "decimal", "assessed_on": "date"}
MEMBER = {"age": "integer", "disability_grade": "integer", "labor": "enum", "enrolled": "bool"}
ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
         "dec2": pa.decimal128(18, 2), "dec3": pa.decimal128(18, 3), "date": pa.date32(),
         "stamp": pa.timestamp("s"), "null": pa.null()}


@lru_cache(maxsize=None)
def pack():
    from fupin import load_policy

    return load_policy(str(ROOT / "policy"))


@lru_cache(maxsize=None)
def validator() -> Validator:
    """One validator for all examples (its per-value caches are pure)."""
    policy = pack()
    return Validator(policy.program().checked, "household", policy.facts_checker())


TEXT = {
    "bool": ["true", "false", "是", "否", "True", "TRUE", "FALSE", " true ", "yes", "1", "0", "on", "tRuE"],
    "enum": ["poor", "exited", "edge", " poor", "POOR", "A", "B", "a", "full", "none", "半劳力", "穷",
             "已脱贫", " 未脱贫 ", "Exited", "registered, exited", "EDGE HOUSEHOLD", "A级", "有劳动能力", "Partial"],
    "integer": ["0", "1", "-1", "-0", "12", " 12 ", "007", "+5", "1,000", "1，000", "6万", "3%", "100%", "1e3", "1.0",
                "1.5", "١٢", "9" * 19, "9" * 25, "NaN", "Infinity", "4", "5"],
    "money": ["4999.5", "4999.50", "4999.505", "6万", "6万元", "0.5亿", "3%", "1,000.5", "-1", "-0.00", "1e3",
              "1E-2", "99999999999999999.99", "0.001", " 12 ", "NaN", "١٢.٥"],
    "ratio": ["3%", "150%", "0.5", "1", "1.0000001", "-0", "50％", "0.333", "2", "1e-1"],
    "decimal": ["84.9", "-1", "3%", "0", "1e400", "12.345678901234567890123"],
    "date": ["2020-06-30", "2020-02-30", "2020-2-3", "20200630", "0001-01-01", "0000-01-01", "2019-02-29",
             "2020-02-29", "2020-02-29 ", "2020-W01-1", "9999-12-31"],
    "string": ["H1", "", " ", "户01"],
}


def text_values(kind=None):
    """Text cells: the spellings that matter for a kind, and some noise."""
    words = TEXT[kind] if kind else sorted({w for ws in TEXT.values() for w in ws})
    return st.one_of(st.sampled_from(words), st.sampled_from(words), st.text(max_size=6),
                     st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6,
                                 max_value=10**6).map(str))


def values_of(source: str, kind: str):
    """Values an arrow column of this input type can hold (None included)."""
    none = st.none()
    if source == "text":
        return st.one_of(none, text_values(kind))
    if source == "int":
        return st.one_of(none, st.integers(-3, 6), st.integers(-2**63, 2**63 - 1))
    if source == "float":
        return st.one_of(none, st.sampled_from([0.0, -0.0, 0.1, 0.5, 1.0, 2.0, 4999.5, 1.234, 1e13, 1e20, 1e300,
                                                float("nan"), float("inf"), -1.0, 3.0000000000000004]),
                         st.floats(allow_nan=True, allow_infinity=True))
    if source in ("dec2", "dec3"):
        places = 2 if source == "dec2" else 3
        return st.one_of(none, st.decimals(allow_nan=False, allow_infinity=False, places=places,
                                           min_value=-10**6, max_value=10**6))
    if source == "bool":
        return st.one_of(none, st.booleans())
    if source == "date":
        return st.one_of(none, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)))
    if source == "stamp":
        return st.one_of(none, st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))
    return none


def python_values(kind=None):
    """Any Python value a JSON/YAML reader could produce, for the object-array path."""
    return st.one_of(st.none(), text_values(kind), st.integers(-2**70, 2**70), st.booleans(),
                     st.floats(allow_nan=True), st.decimals(places=3, allow_nan=False, allow_infinity=False),
                     st.dates(), st.lists(st.integers(), max_size=2))


@st.composite
def arrow_rows(draw):
    """A table of households with members, each column of a randomly chosen input type."""
    n = draw(st.integers(1, 6))
    sources = {f: draw(st.sampled_from(list(ARROW))) for f in HOUSEHOLD}
    member_sources = {f: draw(st.sampled_from(list(ARROW))) for f in MEMBER}
    columns = {f: [draw(values_of(s, HOUSEHOLD[f])) for _ in range(n)] for f, s in sources.items()}
    if draw(st.integers(0, 3)):  # mostly valid ids, so that the other fields decide
        sources["id"], columns["id"] = "text", [f"H{i}" for i in range(n)]
    members = []
    for _ in range(n):
        kids = draw(st.one_of(st.none(), st.lists(st.just(0), max_size=3)))
        if kids is None:
            members.append(None)
            continue
        members.append([{f: draw(values_of(s, MEMBER[f])) for f, s in member_sources.items()} for _ in kids])
    fields = [pa.field(f, ARROW[s]) for f, s in sources.items()]
    struct = pa.struct([pa.field(f, ARROW[s]) for f, s in member_sources.items()])
    fields.append(pa.field("members", pa.list_(struct)))
    data = [pa.array(columns[f], ARROW[s]) for f, s in sources.items()]
    data.append(pa.array(members, pa.list_(struct)))
    return pa.Table.from_arrays(data, schema=pa.schema(fields))


@st.composite
def python_rows(draw):
    """Rows of Python values of any mix of types (and rows that are not objects)."""
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 12)) == 0:
            rows.append(draw(st.one_of(st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))))
            continue
        row = {f: draw(python_values(k)) for f, k in HOUSEHOLD.items() if draw(st.booleans())}
        if draw(st.integers(0, 3)):
            row["id"] = f"H{len(rows)}"
        kind = draw(st.integers(0, 5))
        if kind == 0:
            row["members"] = draw(st.one_of(st.none(), st.text(max_size=2), st.integers()))
        elif kind > 1:
            row["members"] = [draw(st.one_of(st.integers(), st.fixed_dictionaries(
                {}, optional={f: python_values(k) for f, k in MEMBER.items()}))) for _ in range(draw(st.integers(0, 3)))]
        rows.append(row)
    return rows


def assert_same_decisions(level, records):
    """Batch validation of ``level`` against FactsChecker on ``records``, row by row."""
    policy = pack()
    checker = policy.facts_checker()
    validated = validator().validate(level)
    good = np.flatnonzero(~validated.bad)
    typed_rows = dict(zip(good.tolist(), to_records(policy.program().checked, validated.frame, good)))
    for i, record in enumerate(records):
        typed, diags = checker.validate(record, "household")
        errors = [d for d in diags if d.severity == "error"]
        if i in validated.marks and typed is not None:
            assert validated.bad[i]  # beyond 64 bits: the documented columnar limit (E810)
            continue
        assert bool(validated.bad[i]) == (typed is None), (record, [d.message("en") for d in errors])
        if typed is None:
            assert validator().reasons(record, validated.marks.get(i, ())), record
        else:
            assert typed_rows[i] == typed, (record, typed_rows[i], typed)


def reference_cell(spec, value):
    """The scalar checker's decision on one cell: (valid, value in column representation)."""
    diags: list = []
    typed = pack().facts_checker().check_value(spec.fld, value, path=spec.name, diags=diags)
    if typed is None:
        return False, None
    return True, encode_value(typed, spec.kind, spec.enum_values)


def spec_of(name):
    layout = validator().layout
    return layout.fields.get(name) or layout.lists["members"].fields[name]


@st.composite
def cells(draw):
    """One field, one input type, a column of cells (possibly dictionary-encoded)."""
    fields = {**HOUSEHOLD, **MEMBER}
    name = draw(st.sampled_from(sorted(fields)))
    source = draw(st.sampled_from(list(ARROW)))
    values = draw(st.lists(values_of(source, fields[name]), min_size=1, max_size=40))
    array = pa.array(values, ARROW[source])
    if source in ("text", "int") and draw(st.booleans()):
        array = array.dictionary_encode()
    return name, array


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells())
def test_cells_decide_like_facts_checker(case):
    name, array = case
    spec = spec_of(name)
    conv = convert(array, spec, validator()._cell(validator().layout, spec))
    for i, value in enumerate(array.to_pylist()):
        if value is None:
            assert conv.missing[i] and not conv.bad[i]
            continue
        ok, encoded = reference_cell(spec, value)
        if i in conv.limit:
            assert ok and conv.bad[i]  # beyond 64 bits: the documented columnar limit
            continue
        assert not conv.missing[i]
        assert bool(conv.bad[i]) == (not ok), (name, value)
        if ok:
            assert conv.data[i] == encoded, (name, value, conv.data[i], encoded)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(arrow_rows())
def test_arrow_columns_decide_like_facts_checker(table):
    assert_same_decisions(from_table(validator().layout, table),
                          table.to_pylist())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(python_rows())
def test_python_values_decide_like_facts_checker(rows):
    layout = validator().layout
    assert_same_decisions(from_records(layout, rows), rows)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({}, optional={f: st.one_of(st.none(), text_values(k)) for f, k in HOUSEHOLD.items()}),
                min_size=1, max_size=6))
def test_text_columns_decide_like_facts_checker(rows):
    for i, row in enumerate(rows):
        row.setdefault("id", f"H{i}")
    names = list(HOUSEHOLD)
    table = pa.table({f: pa.array([r.get(f) for r in rows], pa.string()) for f in names})
    layout = validator().layout
    assert_same_decisions(from_table(layout, table), table.to_pylist())


def test_edge_values_in_columns():
    """A few hand-picked cells, each against the checker (a readable complement to the properties)."""
    cases = {
        "income_per_capita": pa.array(["4999.5", "6万", "4999.505", "1,000", "١٢", " 12 ", None, "3%"]),
        "relocation_loan_year": pa.array([1.0, 1.5, 0.0, float("nan"), 2.0**60, None, 3.0, -0.0]),
        "assessed_on": pa.array(["2020-02-29", "2019-02-29", "0000-01-01", "20200630", None, "2020-06-30", "x", ""]),
        "status": pa.array(["poor", " poor", "POOR", None, "edge", "", "monitored", "exited"]).dictionary_encode(),
    }
    table = pa.table({"id": pa.array([f"H{i}" for i in range(8)]), **cases})
    layout = validator().layout
    assert_same_decisions(from_table(layout, table), table.to_pylist())
