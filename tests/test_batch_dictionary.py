"""The Parquet reader reads the declared enums' text columns as dictionary arrays (session 17:
each distinct text validated once, not each cell hashed); that path and the text path must
decide every cell alike, and a batch run must write the same bytes either way.

- :func:`convert` on the same cells as ``string``, ``large_string`` and dictionary arrays
  (int8/int32 indices, a null inside the dictionary, sliced): the same data, fillers
  included, the same missing and bad cells — exact values, zh and en labels, unknown
  values, spellings only the checker decides, nulls;
- ``parquet_chunks`` with and without dictionaries on files of several row groups whose
  chunks cross them: the same rows, the same raw records, the same validation;
- ``fupin batch`` with the reader's dictionaries on and off (``dictionary_paths`` patched
  to none): the same output, quarantine and reasons, for enum columns at the top and in
  the members, as string and large_string, bad values at both levels; and a row group
  pyarrow fails to read as dictionaries is read as text from where it stopped.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine.batch import readers
from fupin.engine.batch.columns import CellChecker, convert
from fupin.engine.batch.projection import dictionary_paths
from fupin.engine.batch.readers import parquet_chunks
from fupin.engine.batch.validate import Validator

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "benchmarks" / "small_policy"

# exact values, zh and en labels, spellings only the checker decides, unknown values, nulls
STATUS = ["poor", "exited", "已脱贫", "registered, exited", " poor", "POOR", "bogus", "", None, "边缘户", "monitored", None]
LABOR = ["full", "none", "有劳动能力", "partial", "半劳力", "Full", None, "full "]


@lru_cache(maxsize=None)
def small():
    from fupin import load_policy

    return load_policy(str(SMALL))


@lru_cache(maxsize=None)
def validator() -> Validator:
    policy = small()
    return Validator(policy.program().checked, "household", policy.facts_checker())


def _spec(level: str, name: str):
    layout = validator().layout
    return (layout if level == "household" else layout.lists["members"]).fields[name]


def _dictionary(values, index=pa.int32(), value=pa.string(), null_inside=False):
    """``values`` as a dictionary array whose dictionary lists each distinct text once (and
    a null among them, with the null cells pointing at it, when ``null_inside``)."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    if null_inside:
        distinct.append(None)
    codes = [distinct.index(v) if v is not None else (len(distinct) - 1 if null_inside else None) for v in values]
    return pa.DictionaryArray.from_arrays(pa.array(codes, index), pa.array(distinct, value))


SHAPES = {
    "string": lambda v: pa.array(v, pa.string()),
    "large_string": lambda v: pa.array(v, pa.large_string()),
    "string_view": lambda v: pa.array(v, pa.string()).cast(pa.string_view()),
    "dictionary": lambda v: _dictionary(v),
    "dictionary int8 large_string": lambda v: _dictionary(v, pa.int8(), pa.large_string()),
    "dictionary with a null value": lambda v: _dictionary(v, null_inside=True),
    "dictionary, sliced": lambda v: _dictionary(["poor", None, "bogus"] + v + ["full"]).slice(3, len(v)),
    "string, sliced": lambda v: pa.array(["x", None] + v, pa.string()).slice(2, len(v)),
    "dictionary larger than the chunk": lambda v: _larger(v),
}


def _larger(values, extra: int = 500):
    """``values`` over a dictionary that also holds ``extra`` texts no cell uses, as every
    batch of a row group with many distinct texts carries the group's whole dictionary."""
    distinct = list(dict.fromkeys(v for v in values if v is not None)) + [f"unused {i}" for i in range(extra)]
    codes = [distinct.index(v) if v is not None else None for v in values]
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(distinct, pa.string()))


def test_a_dictionary_larger_than_its_chunk_costs_the_chunk_not_the_dictionary():
    """Deciding a 5,000-text dictionary in each of a row group's chunks made the run
    quadratic in the distinct texts (reviewed: 6.2 s of CPU became 27.8 s); the chunk's own
    cells are decided instead."""
    spec = _spec("household", "status")
    cell = CellChecker(validator().facts, spec)
    out = convert(_larger(["bogus 1", "poor", None, "bogus 2"], extra=5000), spec, cell)
    assert out.bad.tolist() == [True, False, False, True] and out.missing.tolist() == [False, False, True, False]
    assert len(cell.cache) <= 4  # the chunk's cells, not the dictionary's 5,004 texts


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("level, name, values", [
    ("household", "status", STATUS), ("household", "housing_grade", ["A", "D", "A级", "E", None, "a", "C级（局部危房）"]),
    ("member", "labor", LABOR), ("member", "school_stage", ["none", "小学", "college", "大学", None, "junior"]),
    ("household", "status", STATUS * 6),  # more than 16 undecided cells: the text path's dictionary_encode
    ("household", "status", [None, None]), ("household", "status", ["poor"] * 5),
])
def test_convert_decides_dictionary_and_text_cells_alike(shape, level, name, values):
    spec = _spec(level, name)
    plain = convert(pa.array(values, pa.string()), spec, CellChecker(validator().facts, spec))
    other = convert(SHAPES[shape](values), spec, CellChecker(validator().facts, spec))
    assert other.data.tolist() == plain.data.tolist()  # the fillers under missing and bad cells included
    assert other.missing.tolist() == plain.missing.tolist() == [v is None for v in values]
    assert other.bad.tolist() == plain.bad.tolist() and other.limit == plain.limit
    assert plain.bad.any() == any(v in ("bogus", "", " poor", "E", "a", "半劳力", "Full", "full ", "大学") for v in values)


def _households(n: int, text=pa.string()) -> pa.Table:
    """``n`` households cycling through good, labelled, unknown and null enum values, at the
    top and in their members (some without members, some with an absent list)."""
    status = [STATUS[i % len(STATUS)] for i in range(n)]
    grade = [["A", "B", "C级（局部危房）", None, "Z"][i % 5] for i in range(n)]
    members = []
    for i in range(n):
        if i % 11 == 5:
            members.append(None)
            continue
        members.append([{"age": 20 + (i + j) % 60, "labor": LABOR[(i + j) % len(LABOR)], "medical_insured": True,
                         "school_stage": ["none", "primary", "小学", None, "bogus"][(i * j) % 5], "enrolled": j % 2 == 0}
                        for j in range(i % 4)])
    member = pa.struct([("age", pa.int64()), ("labor", text), ("medical_insured", pa.bool_()),
                        ("school_stage", text), ("enrolled", pa.bool_())])
    return pa.table({"id": [f"H{i}" for i in range(n)], "village_id": [f"V{i % 3}" for i in range(n)],
                     "registered": [i % 7 != 3 for i in range(n)], "status": pa.array(status, text),
                     "income_per_capita": pa.array([3000 + i for i in range(n)], pa.decimal128(14, 2)),
                     "housing_grade": pa.array(grade, text), "members": pa.array(members, pa.list_(member))})


def _write(tmp_path, table, name="in.parquet", **options) -> Path:
    path = tmp_path / name
    pq.write_table(table, path, row_group_size=options.pop("row_group_size", 70), **options)
    return path


def _chunks(path, chunk_size: int, dictionaries: bool) -> list:
    layout = validator().layout
    return list(parquet_chunks(path, layout, chunk_size, ("village_id",), dictionaries=dictionaries))


def test_the_reader_asks_for_the_enum_text_columns_at_both_levels(tmp_path):
    path = _write(tmp_path, _households(10))
    schema = pq.ParquetFile(path).schema
    assert dictionary_paths(schema, validator().layout) == \
        ["status", "housing_grade", "members.list.element.labor", "members.list.element.school_stage"]
    read = ["status", "members.list.element.labor"]
    assert dictionary_paths(schema, validator().layout, keep=("status",), columns=read) \
        == ["members.list.element.labor"]  # not a carried column, only what is read
    keyed = dataclasses.replace(validator().layout, key="status")
    assert "status" not in dictionary_paths(schema, keyed)  # the key goes to the output as read


@pytest.mark.parametrize("text", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("chunk_size", [32, 70, 100, 1000])
def test_dictionary_chunks_validate_as_text_chunks(tmp_path, text, chunk_size):
    path = _write(tmp_path, _households(300, text))
    plain, coded = _chunks(path, chunk_size, False), _chunks(path, chunk_size, True)
    assert [c.rows.tolist() for c in coded] == [c.rows.tolist() for c in plain]
    assert pa.types.is_dictionary(coded[0].level.columns["status"].type)
    assert pa.types.is_dictionary(coded[0].level.lists["members"].level.columns["labor"].type)
    for a, b in zip(plain, coded):
        assert b.records(list(range(b.level.n))) == a.records(list(range(a.level.n)))
        assert b.extra["village_id"].to_pylist() == a.extra["village_id"].to_pylist()
        va, vb = validator().validate(a.level), validator().validate(b.level)
        assert vb.bad.tolist() == va.bad.tolist() and vb.marks == va.marks
        assert _frame(vb.frame) == _frame(va.frame)


def _frame(frame) -> dict:
    out = {name: (col.data.tolist(), None if col.missing is None else col.missing.tolist())
           for name, col in frame.columns.items()}
    for name, kids in frame.children.items():
        out[name] = (_frame(kids.frame), kids.parent.tolist(), None if kids.missing is None else kids.missing.tolist())
    return out


def _batch(tmp_path, path, name: str, *flags) -> tuple:
    out, quarantine = tmp_path / f"{name}.parquet", tmp_path / f"{name}.q.csv"
    result = CliRunner().invoke(main, ["batch", str(SMALL), str(path), "-o", str(out), "--quarantine", str(quarantine),
                                       "--chunk-size", "64", "--lang", "en", "--no-cache", *flags])
    assert result.exit_code == 0, result.output
    return out.read_bytes(), quarantine.read_bytes(), result.output.splitlines()[-1]


@pytest.mark.parametrize("text", [pa.string(), pa.large_string()])
def test_a_batch_writes_the_same_bytes_with_and_without_dictionaries(tmp_path, monkeypatch, text):
    path = _write(tmp_path, _households(500, text))
    coded = _batch(tmp_path, path, "coded")
    monkeypatch.setattr(readers, "dictionary_paths", lambda *a, **k: [])
    plain = _batch(tmp_path, path, "plain")
    assert coded == plain
    assert "quarantined 0" not in coded[2] and b"E802" in coded[1]  # bad enum values at both levels, with reasons


def test_a_file_of_string_view_columns_gives_the_same_result_as_plain_text(tmp_path):
    """pyarrow's set kernels have no string_view kernel: such a file stopped with a bare
    E804 "no kernel matching input types"; its text is read as plain strings instead. (The
    members stay plain: pyarrow cannot write string_view inside a list.)"""
    table = _households(300)
    views = table.select(["id", "status", "housing_grade"])
    for name in views.column_names:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, pa.field(name, pa.string_view()), table.column(name).cast(pa.string_view()))
    assert pq.read_schema(_write(tmp_path, table, "views.parquet")).field("status").type == pa.string_view()
    assert _batch(tmp_path, tmp_path / "views.parquet", "views") == _batch(
        tmp_path, _write(tmp_path, _households(300), "text.parquet"), "text")


def test_a_row_group_pyarrow_cannot_read_as_dictionaries_is_read_as_text(tmp_path, monkeypatch):
    """A nested dictionary pyarrow gives up on in mid-group: the rest of that group is read
    as text and joined with the dictionary batches before it; the same chunks, the same run."""
    path = _write(tmp_path, _households(400))
    plain = _chunks(path, 64, False)
    real = pq.ParquetFile

    class Failing(real):
        def iter_batches(self, *args, **kwargs):
            for n, batch in enumerate(super().iter_batches(*args, **kwargs)):
                if n == 1 and self.read_dictionary and kwargs.get("row_groups") == [2]:
                    raise pa.ArrowNotImplementedError("Nested data conversions not implemented for chunked array "
                                                      "outputs")
                yield batch

        @property
        def read_dictionary(self):
            return self._dictionary

        def __init__(self, source, *args, read_dictionary=None, **kwargs):
            super().__init__(source, *args, read_dictionary=read_dictionary, **kwargs)
            self._dictionary = read_dictionary

    monkeypatch.setattr(readers.pq, "ParquetFile", Failing)
    coded = _chunks(path, 64, True)
    assert [c.rows.tolist() for c in coded] == [c.rows.tolist() for c in plain]
    for a, b in zip(plain, coded):
        va, vb = validator().validate(a.level), validator().validate(b.level)
        assert vb.bad.tolist() == va.bad.tolist() and _frame(vb.frame) == _frame(va.frame)
    assert coded[0].level.n and np.any([not pa.types.is_dictionary(c.level.columns["status"].type) for c in coded])
