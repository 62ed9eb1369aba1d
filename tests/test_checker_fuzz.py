"""Fuzzing the checker with mutated real pack files (issue 13 item 7).

Each example takes one YAML file of the pack and applies a few mutations: a line
deleted, duplicated, swapped or re-indented; a character inserted (full-width
punctuation, emoji, combining marks, right-to-left marks, a tab, a quote, a bracket);
a number made huge; an explicit tag, an anchor, an alias or a merge key added; a NUL
(as a double-quoted escape) put into an expression. The checker must end in diagnostics
that render in zh and en without a library's prose; never an exception.

Bounded for CI (about a minute); ``FUPIN_FUZZ_EXAMPLES=5000 pytest tests/test_checker_fuzz.py``
runs longer by hand. A crash writes the mutated file into tests/fuzz_corpus/ (named by
its hash, with the file it replaces on its first line) and fails; the corpus is run
below as regression cases, each file in place of the one it names.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkercases import LIBRARY_WORDS, PACK, PackCopy, rendered

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
EXAMPLES = int(os.environ.get("FUPIN_FUZZ_EXAMPLES", "150"))
FILES = sorted(str(p.relative_to(PACK)) for p in PACK.rglob("*.yaml") if p.parent.name != "tests")

INSERTS = ["：", "（", "）", "，", "　", "\t", "😀", "\u0301", "\u202e", "\ufeff", "'", '"', "[", "]", "{", "}",
           "#", "&a ", "*a ", "!!timestamp ", "!!float ", "!!binary ", "!custom ", "!!python/object ", "<<: *a\n",
           "? ", "- ", "|", ">", "%", "@", "`", "\\0", "\\x00", "9" * 30, "1e999", "-0", "小于 ", "以上", "元", "%",
           "万元", " 且 ", " or ", "inf", "nan", "2020-02-30", "..", "---\n", "...\n"]
MUTATION = st.tuples(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "insert", "number",
                                      "nul", "truncate"]),
                     st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(INSERTS))


def mutate(text: str, steps) -> str:
    """Apply the mutation steps to a file's text (positions taken modulo its size)."""
    lines = text.split("\n")
    for op, a, b, payload in steps:
        if not lines:
            break
        i, j = a % len(lines), b % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = " " * (1 + b % 4) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][1 + b % 4:]
        elif op == "insert":
            k = b % (len(lines[i]) + 1)
            lines[i] = lines[i][:k] + payload + lines[i][k:]
        elif op == "number":
            lines[i] = "".join("9" * (5 + b % 40) if ch.isdigit() else ch for ch in lines[i])
        elif op == "nul":
            if "expr: " in lines[i] or ": " in lines[i]:
                key, _, value = lines[i].partition(": ")
                lines[i] = f'{key}: "\\0{value.strip(chr(34))}"'
        elif op == "truncate":
            lines = lines[:i]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return PackCopy(tmp_path_factory.mktemp("fuzz"))


def check_total(pack: PackCopy, file: str, text: str) -> None:
    """The assertion of the suite: diagnostics only, in fupin's words; a failing input is
    saved into the corpus."""
    try:
        diags = pack.check(file, text)
        rendered(diags)
        zh = "\n".join(d.render("zh") for d in diags)
        assert not [w for w in LIBRARY_WORDS if w in zh], zh
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        CORPUS.mkdir(exist_ok=True)
        name = hashlib.sha1(f"{file}\n{text}".encode()).hexdigest()[:12]
        (CORPUS / f"found-{name}.yaml").write_text(f"# replaces: {file}\n{text}", encoding="utf-8")
        raise


@settings(max_examples=EXAMPLES, deadline=None, derandomize="FUPIN_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(FILES), st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_pack_files_end_in_diagnostics(pack, file, steps):
    check_total(pack, file, mutate(pack.original(file), steps))


def _corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("case", _corpus(), ids=lambda p: p.stem)
def test_corpus_case(pack, case):
    """A file of tests/fuzz_corpus/ in place of the pack file its first line names;
    ``# expect: E304 E601`` on the second line names codes that must be reported."""
    text = case.read_text(encoding="utf-8")
    head, _, body = text.partition("\n")
    assert head.startswith("# replaces: "), case
    file = head[len("# replaces: "):].strip()
    expect = set()
    if body.startswith("# expect: "):
        expect = set(body.partition("\n")[0][len("# expect: "):].split())
    check_total(pack, file, body)
    if expect:
        assert expect <= {d.code for d in pack.check(file, body)}
