"""Fuzzing the batch readers (issue 11): whatever the bytes of a CSV or JSON-lines input,
a batch run ends in one of two ways only, never with an unhandled exception:

- it finishes, and ``rows in = rows out + rows quarantined``; or
- it stops with a located fupin diagnostic about the input (E804 unreadable, E816 no
  members in a JSON-lines input, E817 another entity's facts, E830 not text in its
  encoding, E832 workbook), with the counts so far, and leaves no output file
  and no temporary file behind.

E833 (an unexpected exception inside the run) counts as a failure here. The number of
examples is small in CI; set FUPIN_FUZZ_EXAMPLES (e.g. 2000) for a longer run.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fupin.dsl.errors import FupinError
from fupin.engine import batch as eb

EXAMPLES = int(os.environ.get("FUPIN_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
ONLY = ["monitoring_tier", "exit_eligible", "education_aid_once"]
# E816: a JSON-lines input none of whose first rows lists members; E817: rows that are
# another entity's facts (both about the input as a whole, issue 11's "no silent facts")
INPUT_CODES = {"E804", "E816", "E817", "E830", "E832"}
NO_MEMBERS = Path(__file__).resolve().parent / "fixtures" / "batch" / "members_none.csv"

FIELDS = ["id", "status", "income_per_capita", "registered", "risk_event", "assessed_on", "village_id",
          "members", "age", "nickname", ""]
CELLS = st.one_of(
    st.sampled_from(["", "0", "-1", "4999.5", "6万", "3%", "是", "否", "true", "TRUE", "poor", "已脱贫", "2020-01-01",
                     "2020-02-30", "1e3", "NaN", "inf", "-0", "0.001", "12,5OO", "\"", "a\nb", "=1+1", "\ufeff"]),
    st.text(max_size=8),
    st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{0,30})?", fullmatch=True),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk"])


@pytest.fixture(scope="module")
def job(pack):
    return eb.Job(pack, "household", None, None, ONLY, "en")


def csv_text(header, rows) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


csv_inputs = st.one_of(
    st.builds(lambda h, rows, enc, tail: csv_text(h, rows).encode(enc, errors="replace") + tail,
              st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True),
              st.lists(st.lists(CELLS, max_size=7), max_size=8), ENCODINGS,
              st.one_of(st.just(b""), st.binary(max_size=12))),
    st.binary(max_size=200),
)

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), CELLS),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)),
    max_leaves=8,
)
jsonl_lines = st.one_of(
    st.builds(lambda d: json.dumps(d, ensure_ascii=False).encode(), st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES,
                                                                                   max_size=6)),
    st.builds(lambda d: json.dumps(d).encode(), JSON_VALUES),
    st.sampled_from([b"", b"{", b'{"id": 1e400}', b'{"id": "a", "income_per_capita": 1e99}', b"\xff\xfe", b"[]"]),
    st.binary(max_size=30),
)
jsonl_inputs = st.builds(lambda lines: b"\n".join(lines), st.lists(jsonl_lines, max_size=8))


def check(job, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / f"in{suffix}", Path(folder) / "out.csv"
        path.write_bytes(data)
        try:
            joined = {"members": str(NO_MEMBERS)} if suffix == ".csv" else {}  # E816 without
            source = eb.Source(str(path), job.layout, joined, 3, kept=job.carried)
            report = eb.run_batch(job, source, str(out), "csv", eb.quarantine_path(out))
        except eb.Stopped as stop:
            report = stop.report
            assert report.stopped.code in INPUT_CODES, report.stopped.message("en")
            assert report.stopped.span.file in (str(path), "<arguments>")
            assert sorted(p.name for p in Path(folder).iterdir()) == [path.name]
            assert report.rows_out + report.rows_quarantined <= report.rows_in
            return
        except FupinError as exc:  # before reading: arguments or the file as a whole
            assert {d.code for d in exc.diagnostics} <= INPUT_CODES, exc.render("en")
            return
        assert report.rows_in == report.rows_out + report.rows_quarantined
        assert out.exists() and not [p for p in Path(folder).iterdir() if p.name.endswith(".part")]


@FUZZ
@given(data=csv_inputs)
def test_csv_bytes(job, data):
    check(job, data, ".csv")


@FUZZ
@given(data=jsonl_inputs)
def test_jsonl_bytes(job, data):
    check(job, data, ".jsonl")
