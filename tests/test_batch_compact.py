"""The compact batch: the ``unknown`` column's encodings (engine/batch/unknowns.py) and
decimal outputs written as text once per distinct value (outputs.decimal_texts).

The compact column (per row the ids of dictionary-encoded ``"output": [facts]`` items)
decodes to exactly the JSON text column, on random entities whatever way the facts of
unknowns were found (tracked in the pass, in a second pass, or by the scalar evaluator),
and through a Parquet file; ``--unknown`` picks the encoding, the run record names it,
CSV keeps the JSON text, and ``off`` leaves the column out.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from fupin.cli.main import main
from fupin.engine.api import as_date, load_policy
from fupin.engine.batch import decode_unknown
from fupin.engine.batch.outputs import ResultWriter, decimal_texts, explanations
from fupin.engine.batch.unknowns import COMPACT, as_json
from fupin.engine.columnar.frame import from_records, take
from fupin.engine.columnar.program import ColumnarProgram

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "30"))
ON = as_date("2020-06-30")
CASES = [("tests/fixtures/columnar", "household"), ("tests/fixtures/mini", "household"), ("policy", "household")]
WAYS = [(True, False), ("rows", False), (False, False), ("auto", True)]  # (why, exact)
_POLICIES: dict = {}


def _policy(path: str):
    if path not in _POLICIES:
        p = load_policy(ROOT / path)
        _POLICIES[path] = (p, ColumnarProgram(p.program()))
    return _POLICIES[path]


def _frame(p, entity, raws):
    checker = p.facts_checker(None)
    records = []
    for i, raw in enumerate(raws):
        typed, _ = checker.validate(dict(raw, id=f"r{i}"), entity)
        if typed is not None:
            records.append(typed)
    return from_records(p.program().checked, entity, records)


def _both(result):
    compact = explanations(result, "en", "compact")
    text = explanations(result, "en", "json")
    assert compact[0].type == COMPACT and text[0].type == pa.string()
    assert compact[1:] == text[1:]  # possible and errors do not depend on the encoding
    return compact[0], text[0]


@pytest.mark.parametrize("path,entity", CASES, ids=[c[0] for c in CASES])
def test_compact_decodes_to_the_json_column(path, entity):
    p, cp = _policy(path)
    checked = p.program().checked

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(checked, entity), min_size=1, max_size=6), st.sampled_from(WAYS))
    def check(raws, way):
        frame = _frame(p, entity, raws)
        if not frame.n:
            return
        result = cp.evaluate(frame, ON, why=way[0], exact=way[1])
        compact, text = _both(result)
        assert as_json(compact).to_pylist() == text.to_pylist()

    check()


def _renumbered(result):
    """The result with its fact sets numbered the other way round (same sets per row)."""
    from fupin.engine.columnar.why import Whys

    old = result.whys
    whys = Whys()
    mapping = np.zeros(len(old.sets) + 1, dtype=np.int32)  # index id + 1: -1 and 0 kept
    mapping[0] = -1
    for ident in range(len(old.sets) - 1, 1, -1):
        mapping[ident + 1] = whys.intern(old.sets[ident])
    mapping[2] = whys.intern(old.sets[1])
    result.whys = whys
    for name in result.outputs:
        result.why[name] = mapping[result.why[name] + 1]
    return result


@pytest.mark.parametrize("path,entity", CASES, ids=[c[0] for c in CASES])
def test_the_compact_column_does_not_depend_on_how_fact_sets_are_numbered(path, entity):
    """The evaluation numbers fact sets in the order it meets them (which a faster way of
    tracking them changes); the column, dictionary order included, is the same array."""
    p, cp = _policy(path)
    checked = p.program().checked

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(checked, entity), min_size=1, max_size=6))
    def check(raws):
        frame = _frame(p, entity, raws)
        if not frame.n:
            return
        first = explanations(cp.evaluate(frame, ON, why=True, exact=False), "en", "compact")[0]
        again = explanations(_renumbered(cp.evaluate(frame, ON, why=True, exact=False)), "en", "compact")[0]
        assert first.equals(again)

    check()


def test_items_are_shared_and_rows_hold_only_ids():
    """Every row of the examples: the dictionary holds each (output, facts) item once."""
    import yaml

    p, cp = _policy("policy")
    raws = yaml.safe_load((ROOT / "examples/households.yaml").read_text(encoding="utf-8"))
    result = cp.evaluate(_frame(p, "household", raws * 3), ON, exact=False)
    compact, text = _both(result)
    items = compact.values.dictionary.to_pylist()
    assert len(items) == len(set(items)) and len(compact.values) >= 3 * len(items)
    for row, want in zip(compact.to_pylist(), text.to_pylist()):
        assert json.loads("{" + ", ".join(row) + "}") == json.loads(want)


def test_a_parquet_file_of_chunks_decodes_to_the_json_file(tmp_path):
    """Each chunk has its own dictionary (a row group's dictionary page); read back whole,
    the column decodes to the JSON file's column."""
    import yaml

    p, cp = _policy("policy")
    raws = yaml.safe_load((ROOT / "examples/households.yaml").read_text(encoding="utf-8"))
    frame = _frame(p, "household", raws)
    schema = {}
    for encoding in ("compact", "json"):
        tables = []
        for chunk in range(3):  # different rows, so different dictionaries
            part = take(frame, np.arange(chunk, frame.n, 2 + chunk))
            result = cp.evaluate(part, ON, exact=False)
            cols = explanations(result, "en", encoding)
            tables.append(pa.table({"id": pa.array([f"{chunk}-{i}" for i in range(part.n)]), "unknown": cols[0]}))
        schema[encoding] = tables[0].schema
        writer = ResultWriter(tmp_path / f"{encoding}.parquet", schema[encoding], "parquet")
        for t in tables:
            writer.write(t)
        writer.commit()
    compact = pq.read_table(tmp_path / "compact.parquet")
    assert compact.schema.field("unknown").type == COMPACT
    assert decode_unknown(compact).equals(pq.read_table(tmp_path / "json.parquet"))


def _batch(tmp_path, name, *args):
    res = CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(ROOT / "tests/fixtures/batch/households.jsonl"),
                                    "-o", str(tmp_path / name), "--lang", "en", *args])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / (Path(name).stem + ".record.json")).read_text(encoding="utf-8"))
    return record


@pytest.mark.parametrize("args,name,encoding,column", [
    ((), "c.parquet", "compact", COMPACT),
    (("--unknown", "json"), "j.parquet", "json", pa.string()),
    (("--unknown", "off"), "n.parquet", "off", None),
    (("--unknown", "off", "--three-valued"), "n3.parquet", "off", None),
    ((), "c.csv", "json", None),
])
def test_the_flag_picks_the_encoding_and_the_record_names_it(tmp_path, args, name, encoding, column):
    record = _batch(tmp_path, name, *args)
    assert record["unknown"] == encoding
    if name.endswith(".csv"):
        return
    schema = pq.read_schema(tmp_path / name)
    if column is None:
        assert "unknown" not in schema.names and schema.names[-2:] == ["possible", "errors"]
    else:
        assert schema.field("unknown").type == column


def test_off_keeps_every_other_column(tmp_path):
    """``--unknown off`` (three-valued: no facts tracked) leaves values, possible and
    errors as the JSON run has them."""
    _batch(tmp_path, "j.parquet", "--unknown", "json", "--three-valued")
    _batch(tmp_path, "n.parquet", "--unknown", "off", "--three-valued")
    assert pq.read_table(tmp_path / "j.parquet").drop(["unknown"]).equals(pq.read_table(tmp_path / "n.parquet"))


@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.decimals(allow_nan=False, allow_infinity=False, places=None), st.booleans()),
                max_size=40))
def test_decimal_texts_are_each_values_text(cells):
    """Each row's text is ``decimal_text`` of its value (null where masked), whatever the
    exponents of equal values (0.5 and 0.50, 1E+1 and 10)."""
    from decimal import Decimal

    from fupin.engine.reports.jsonout import decimal_text

    cells = cells + [(Decimal("0.50"), False), (Decimal("0.5"), False), (Decimal("1E+1"), False), (Decimal(10), False)]
    data = np.empty(len(cells), dtype=object)
    data[:] = [value for value, _ in cells]
    mask = np.array([masked for _, masked in cells], dtype=bool)
    assert decimal_texts(data, mask).to_pylist() == [None if m else decimal_text(v) for v, m in cells]


_KINDS = {  # output kind -> (numpy data of that kind, the arrow column the old way built it)
    "bool": (st.booleans(), lambda d, m: pa.array(d, type=pa.bool_(), mask=m)),
    "integer": (st.integers(-2 ** 63, 2 ** 63 - 1), lambda d, m: pa.array(d, type=pa.int64(), mask=m)),
    "date": (st.integers(-700000, 2900000), lambda d, m: pa.array(d.astype(np.int32), mask=m).cast(pa.date32())),
    "money": (st.integers(-10 ** 17, 10 ** 17), None),
    "enum": (st.integers(0, 2), lambda d, m: pa.array(["a", "b", "c"]).take(pa.array(d.astype(np.int32), mask=m))),
}


@settings(max_examples=EXAMPLES * 5, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(_KINDS)).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.tuples(_KINDS[k][0], st.booleans()), max_size=70))))
def test_output_columns_are_the_arrays_and_the_parquet_bytes_of_pa_array(tmp_path_factory, case):
    """bool, integer, date, enum (and money) columns built over numpy buffers with a packed
    validity bitmap (outputs.with_nulls) hold what ``pa.array(data, mask=mask)`` held, and
    a Parquet file of them has the same bytes (nulls anywhere: lengths past a byte, none,
    all)."""
    from types import SimpleNamespace

    from fupin.engine.batch.outputs import money_array, output_array

    kind, cells = case
    dtype = {"bool": bool, "enum": np.int16}.get(kind, np.int64)
    data = np.array([v for v, _ in cells], dtype=dtype)
    mask = np.array([m for _, m in cells], dtype=bool)
    rtype = SimpleNamespace(kind=kind, name="e")
    checked = SimpleNamespace(enums={"e": SimpleNamespace(values=["a", "b", "c"])})
    got = output_array(data, mask, rtype, checked) if kind != "money" else money_array(data, mask)
    if kind == "money":
        from decimal import Decimal

        want = pa.array([None if m else Decimal(int(v)).scaleb(-2) for v, m in cells], pa.decimal128(18, 2))
    else:
        want = _KINDS[kind][1](data, mask)
    assert got.type == want.type and got.null_count == want.null_count and got.equals(want)
    folder = tmp_path_factory.mktemp("cols")
    for name, column in (("got", got), ("want", want)):
        pq.write_table(pa.table({"x": column}), folder / f"{name}.parquet", compression="zstd")
    assert (folder / "got.parquet").read_bytes() == (folder / "want.parquet").read_bytes()


def _reference_compact(result, explained: dict) -> tuple:
    """Row by row, as the column is documented: per row, in output order, the item of
    each output that holds one (explained rows: exactly their items); items numbered
    output by output in the order of their facts, then those of explained rows."""
    names = [n for n in result.outputs if result.unknown[n].any()]
    ids: dict = {}

    def item(name, facts):  # a tracked set's facts sorted, an explained row's as given
        listed = sorted(facts) if isinstance(facts, (frozenset, tuple)) else list(facts)
        text = f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(listed, ensure_ascii=False)}"
        return ids.setdefault(text, len(ids))

    for name in names:
        held = [int(i) for r, i in enumerate(result.why[name].tolist()) if i > 0 and r not in explained]
        for facts in sorted({tuple(sorted(result.whys.sets[i])) for i in held}):
            item(name, facts)
    for waits in explained.values():
        for name, facts in waits.items():
            item(name, facts)
    rows = []
    for r in range(result.n):
        if r in explained:
            rows.append([item(n, explained[r][n]) for n in names if n in explained[r]])
        else:
            rows.append([item(n, result.whys.sets[i]) for n in names if (i := int(result.why[n][r])) > 0])
    return sorted(ids, key=ids.get), rows


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_the_sparse_compact_column_equals_the_row_by_row_reference(data):
    """unknowns.compact_column (each output's rows placed at the rows' next free slots)
    against the documented layout built row by row: the same dictionary in the same
    order, the same ids per row, on random fact-set ids (known, untracked, tracked;
    outputs unknown on no, some or every row) and random explained rows."""
    from types import SimpleNamespace

    from fupin.engine.batch.unknowns import compact_column
    from fupin.engine.columnar.why import Whys

    n = data.draw(st.integers(1, 40))
    whys = Whys()
    facts = st.frozensets(st.sampled_from(["a", "b", "members[0].c", "members[1].c", "d"]), max_size=3)
    for s in data.draw(st.lists(facts, min_size=1, max_size=6)):
        whys.intern(s)
    size = len(whys.sets)
    outputs = [f"o{k}" for k in range(data.draw(st.integers(1, 5)))]
    why = {name: np.array(data.draw(st.lists(st.integers(-1, size - 1), min_size=n, max_size=n)), dtype=np.int32)
           for name in outputs}
    unknown = {name: why[name] != 0 for name in outputs}
    result = SimpleNamespace(outputs=outputs, unknown=unknown, why=why, whys=whys, n=n)
    rows = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=4))
    explained = {r: {name: data.draw(st.lists(st.sampled_from(["x", "y", "a"]), unique=True, max_size=2))
                     for name in outputs if unknown[name][r]} for r in sorted(rows)}
    column = compact_column(result, explained)
    texts, expected = _reference_compact(result, explained)
    assert column.values.dictionary.to_pylist() == texts
    offsets = column.offsets.to_numpy()
    indices = column.values.indices.to_numpy()
    assert [indices[offsets[r]:offsets[r + 1]].tolist() for r in range(n)] == expected
