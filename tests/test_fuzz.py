"""Property tests: the parser and checker never crash, whatever the input.

Random text and random sequences of the language's own tokens go through the parser
and through the whole checker (inside a rule file); the only acceptable failures are
located diagnostics.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.dsl.checker import check_all
from fupin.dsl.loader import load_source
from fupin.dsl.parser import ParseFailure, parse_expression, parse_unary_test

ROOT = Path(__file__).resolve().parent.parent
TOKENS = ["(", ")", "[", "]", "{", "}", ",", ":", ".", "+", "-", "*", "/", "<", "<=", "==", "=", "!=", ">=", ">",
          "and", "or", "not", "且", "或", "非", "in", "where", "if", "then", "else", "如果", "则", "否则", "true", "是",
          "3%", "400元", "6万元", "2020-06-30", "5000", "0.5", "\"s\"", "income_per_capita", "status", "poor",
          "members", "age", "count", "sum", "any", "all", "min", "max", "round", "household", "red_line", "inf",
          "__class__", "__import__", "人均纯收入", "'", "\\", "\n", "#", "&", "*a"]


def _parse_never_crashes(text: str) -> None:
    for parse in (parse_expression, parse_unary_test):
        try:
            parse(text)
        except ParseFailure as exc:
            assert exc.code.startswith("E2")
            assert 0 <= exc.offset <= len(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_parser_random_text(text):
    _parse_never_crashes(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_parser_random_tokens(tokens):
    _parse_never_crashes(" ".join(tokens))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.text(max_size=60))
def test_checker_never_crashes(tmp_path, tokens, noise):
    shutil.copy(ROOT / "tests/fixtures/broken/declarations.yaml", tmp_path / "declarations.yaml")
    expr = " ".join(tokens)
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"entity: household\nrules:\n  r:\n    type: bool\n    source: \"001:1\"\n    expr: {expr!r}\n",
                     encoding="utf-8")
    (tmp_path / "noise.yaml").write_text(noise, encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path))
    for d in diags:
        d.render("zh")
        d.render("en")
        assert d.span.line >= 0
