"""Fuzzing facts documents and batch inputs: only located fupin errors, never a crash or a hang.

Hypothesis writes facts documents (YAML and JSON text) and JSONL/CSV batch inputs whose
values are drawn from a corpus of hostile spellings (huge and tiny exponents, long digit
strings, NaN/Infinity/-0, full-width and Arabic-Indic digits, underscores, hex,
booleans, impossible dates, YAML tags of every kind, merge keys) and from random
compositions of their parts. Each document is read and evaluated by the scalar path
(``FactsFile`` + ``Policy.evaluate_file``) and each batch input by the batch path with the
columnar evaluator, on tests/fixtures/bounds (arithmetic that can pass the bound).
The only acceptable failures are ``FupinError`` diagnostics located in the input, and
no example may take more than a few seconds. FUPIN_FUZZ_EXAMPLES raises the number of
examples for a longer manual run (CI: 25 per test).
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.dsl.errors import FupinError
from fupin.engine import batch as eb
from fupin.engine.api import load_policy
from fupin.engine.facts.read import FactsFile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("FUPIN_FUZZ_EXAMPLES", "25"))
SECONDS = 5.0
POLICY = load_policy(ROOT / "tests" / "fixtures" / "bounds")
FIELDS = ("income", "bonus", "size", "count", "share", "area")

HOSTILE = [
    "1e1000000", "-1e1000000", "9e999999", "1e-1000000", "1.0e+1000000", "1e27", "1e15", "-1e15", "1e16",
    "999999999999999.99", "1000000000000000.01", "0.000000000000000000001", "9" * 400, "9" * 5000, "NaN", "nan",
    "sNaN", "Infinity", "-Infinity", ".inf", "-.inf", ".nan", "-0", "-0.0", "0e999999", "４９９９", "１２３",
    "١٢٣", "۱۲۳", "1_000", "0x1F", "0o17", "0b11", "012", "1:20", "true", "false", "yes", "是", "2020-02-30",
    "2020-01-01", "2020-01-01 10:00:00", "6万", "9e999999万", "3%", "1e-1000000%", "4,999.50", "1e", "--1", "",
    "!!timestamp 2020-01-01", "!!float abc", "!!float 1e5", "!!int x", "!!bool x", "!!binary aGVsbG8=",
    "!!python/object:os.system x", "!custom x", "!!str 12", "!!null x", "!!set {a, b}", "{<<: {a: 1}}", "[1, 2]",
    "{a: 1}", "~",
]

_SIGNS = st.sampled_from(["", "-", "+"])
_DIGITS = st.text(alphabet="0123456789０１２３٣۱_", min_size=1, max_size=30)
_EXPONENT = st.one_of(st.integers(-10 ** 7, 10 ** 7), st.integers(-30, 30)).map(lambda e: f"e{e}")
_COMPOSED = st.builds(lambda s, d, f, e: f"{s}{d}{f}{e}", _SIGNS, _DIGITS,
                      st.sampled_from(["", ".", ".5", ".00000000000000000000001"]), st.one_of(st.just(""), _EXPONENT))
SCALAR = st.one_of(st.sampled_from(HOSTILE), _COMPOSED, st.integers(-(10 ** 20), 10 ** 20).map(str))


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def yaml_documents(draw) -> str:
    """A list of households in YAML, each field plain, quoted or tagged hostile text."""
    lines = []
    for i in range(draw(st.integers(1, 4))):
        lines.append(f"- id: H{i}")
        for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS))):
            text = draw(SCALAR)
            lines.append(f"  {name}: {draw(st.sampled_from([text, _quoted(text)]))}")
        if draw(st.booleans()):
            lines.append("  members:")
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"  - pay: {draw(SCALAR)}")
    return "\n".join(lines) + "\n"


def _located(exc: FupinError, path: str) -> None:
    for d in exc.diagnostics:
        assert d.code[0] == "E" and d.code[1] in "18", d.code  # E1xx reading, E8xx facts
        assert d.span.file in (path, "<facts>") and d.span.line >= 0


def _evaluate_text(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / f"h{suffix}")
        Path(path).write_text(text, encoding="utf-8")
        start = time.perf_counter()
        try:
            ffile = FactsFile(path)
        except FupinError as exc:
            _located(exc, path)
            return
        for item in POLICY.evaluate_file(ffile):
            if item.result is None:
                _located(FupinError(item.invalid), path)
                continue
            assert {e.code for e in item.result.errors.values()} <= {"E720", "E807"}
        assert time.perf_counter() - start < SECONDS


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_documents())
def test_yaml_facts_documents_only_fail_with_located_errors(text):
    _evaluate_text(text, ".yaml")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({}, optional={f: SCALAR for f in FIELDS}), min_size=1, max_size=4))
def test_json_facts_documents_only_fail_with_located_errors(rows):
    # numbers written bare where JSON allows it, as strings elsewhere
    items = []
    for i, row in enumerate(rows):
        cells = [f'"id": "H{i}"'] + [f'"{k}": {v if _json_number(v) else _quoted(v)}' for k, v in row.items()]
        items.append("{" + ", ".join(cells) + "}")
    _evaluate_text("[" + ",\n".join(items) + "]\n", ".json")


def _json_number(text: str) -> bool:
    try:
        json.loads(text, parse_int=len)  # a 5,000-digit integer is a JSON number too
    except ValueError:
        return False
    return text.strip() == text and text[:1] in "-0123456789"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({}, optional={f: SCALAR for f in FIELDS}), min_size=1, max_size=6),
       st.sampled_from([".jsonl", ".csv"]))
def test_batch_inputs_only_quarantine_and_account_for_every_row(rows, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"h{suffix}"
        if suffix == ".jsonl":
            lines = []
            for i, row in enumerate(rows):
                cells = [f'"id": "H{i}"'] + [f'"{k}": {v if _json_number(v) else _quoted(v)}' for k, v in row.items()]
                lines.append("{" + ", ".join(cells) + "}")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            head = ["id", *FIELDS]
            body = [",".join([f"H{i}"] + [_quoted(row.get(f, "")) if row.get(f) else "" for f in FIELDS])
                    for i, row in enumerate(rows)]
            path.write_text(",".join(head) + "\n" + "\n".join(body) + "\n", encoding="utf-8")
        out = Path(tmp) / "out.csv"
        job = eb.Job(POLICY, "household", None, None, None, "en", False)
        source = eb.Source(str(path), job.layout, {}, 1000)
        start = time.perf_counter()
        try:
            report = eb.run_batch(job, source, str(out), eb.output_format(out), eb.quarantine_path(out, None))
        except FupinError as exc:
            _located(exc, str(path))
            return
        assert time.perf_counter() - start < SECONDS
        assert report.rows_in == report.rows_out + report.rows_quarantined == len(rows)
