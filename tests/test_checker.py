"""The checker: golden rendered output for a broken policy, and a table of single errors."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fupin.dsl.checker import check_all
from fupin.dsl.errors import render_all
from fupin.dsl.loader import load_source

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_broken_policy_golden(at_root, lang):
    diags, _ = check_all(load_source("tests/fixtures/broken"))
    text = render_all(diags, lang) + "\n"
    golden = GOLDEN / f"check_broken.{lang}.txt"
    if os.environ.get("FUPIN_REGOLD"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_clean_fixture_has_no_errors(at_root):
    diags, _ = check_all(load_source("tests/fixtures/mini"))
    assert [d for d in diags if d.severity == "error"] == []


def _policy_with(tmp_path: Path, rules_yaml: str) -> list:
    shutil.copy(ROOT / "tests/fixtures/broken/declarations.yaml", tmp_path / "declarations.yaml")
    (tmp_path / "rules.yaml").write_text("entity: household\nrules:\n" + rules_yaml, encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path))
    return diags


@pytest.mark.parametrize("rule, code, line, col", [
    ("  r: {type: bool, expr: 'a +'}", "E202", 3, 29),
    ("  r: {type: bool, expr: 'status == poor 且 incme > 1'}", "E301", 3, 43),
    ("  r: {type: bool, expr: 'members > 1'}", "E404", 3, 26),
    ("  r: {type: bool, expr: 'income_per_capita'}", "E403", 3, 26),
    ("  r: {type: bool, expr: 'risk_event + 1'}", "E401", 3, 26),
    ("  r: {type: bool, expr: 'sum(members, labor)'}", "E401", 3, 39),
    ("  r: {type: bool, expr: 'age > 3'}", "E301", 3, 26),
    ("  r: {type: bool, expr: 'household.status == poor'}", "E306", 3, 26),
    ("  r: {type: bool, expr: '__import__(\"os\")'}", "E305", 3, 26),
    ("  r: {type: bool, expr: '().__class__'}", "E201", 3, 27),
    ("  r: {type: tier, expr: 'purple'}", "E304", 3, 26),
    ("  r: {type: colour, expr: 'true'}", "E302", 3, 13),
    ("  r: {type: bool}", "E103", 3, 3),
    ("  r: {type: bool, expr: 'true', tabel: 1}", "E103", 3, 33),
    ("  r: {type: bool, expr: 'true', source: '001'}", "E105", 3, 41),
    ("  r: {type: bool, expr: 'x', expr: 'y'}", "E104", 3, 30),
    ("  r: &a {type: bool, expr: 'true'}\n  s: *a", "E102", 4, 6),
    ("  r: {type: tier, table: {hit: unique, inputs: {i: income_per_capita}, rows: [{i: '< 5', then: red}, {i: '< 9', then: red}, {i: '>= 9', then: red}]}}",
     "E602", 3, 102),
    ("  r: {type: tier, table: {hit: first, inputs: {i: risk_event}, rows: [{i: true, then: red}]}}", "E601", 3, 26),
    ("  r: {type: tier, table: {hit: first, inputs: {i: risk_event}, rows: [{j: true, then: red}, {then: none}]}}", "E603", 3, 72),
])
def test_single_error(tmp_path, rule, code, line, col):
    diags = [d for d in _policy_with(tmp_path, rule) if d.severity == "error"]
    assert diags, "expected an error"
    first = diags[0]
    assert (first.code, first.span.line, first.span.col) == (code, line, col), first.render("en")


def test_billion_laughs_is_refused(tmp_path):
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    (tmp_path / "lol.yaml").write_text(lol, encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path))
    assert [d.code for d in diags] == ["E102"]


@pytest.mark.parametrize("depth, code", [(1_000, "E205"), (10_000, "E206")])
def test_deep_brackets_are_a_located_error(tmp_path, depth, code):
    deep = "(" * depth + "1" + ")" * depth
    diags = [d for d in _policy_with(tmp_path, f"  r: {{type: integer, expr: '{deep}'}}") if d.severity == "error"]
    assert [(d.code, d.span.line) for d in diags] == [(code, 3)]


def test_deep_yaml_is_a_located_error(tmp_path):
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path))
    assert [d.code for d in diags] == ["E101"]


# --- lints of variants: what a variant adds is linted, base warnings are not repeated

LINT_BASE = """\
documents:
  D: {title: {zh: 文件, en: document}}
entities:
  household:
    fields:
      id: {type: string, required: true}
      income: {type: money}
parameters:
  line: {type: money, source: "D:1", values: {2016-01-01: 3000}}
  spare: {type: money, source: "D:1", values: {2016-01-01: 1}}
entity: household
rules:
  low: {type: bool, source: "D:1", expr: income < line}
  unsourced: {type: bool, expr: income > 0元}
  helper: {type: money, internal: true, source: "D:1", expr: line * 2}
"""


@pytest.mark.parametrize("variant, expected", [
    # an internal rule the variant adds and nothing uses
    ("rules:\n  extra: {entity: household, type: bool, internal: true, source: 'D:1', expr: 'income > 1元'}\n",
     [("W904", "v.yaml", 4)]),
    # a rule the variant adds without a source
    ("rules:\n  extra: {entity: household, type: bool, expr: low}\n", [("W903", "v.yaml", 4)]),
    # a gap in the values the variant gives a parameter
    ("parameters:\n  line:\n    values: {2020-01-01: {gap: 空白, source: 'D:1'}}\n", [("W902", "v.yaml", 5)]),
    # overriding a rule the base already warns about: no second warning at the variant
    ("rules:\n  unsourced: {expr: income > 1元}\n", []),
    # overriding an unused parameter: W901 once, at the base
    ("parameters:\n  spare: {values: {2016-01-01: 2}}\n", []),
    # labels only: nothing the variant supplies changes a value
    ("rules:\n  low: {labels: {zh: 低, en: low}}\n", []),
])
def test_variant_additions_are_linted_once(tmp_path, monkeypatch, variant, expected):
    found = _lint(tmp_path, monkeypatch, variant)
    base = [f for f in found if f[1] == "base.yaml"]
    assert base == [("W901", "base.yaml", 10), ("W903", "base.yaml", 14), ("W904", "base.yaml", 15)]
    assert [f for f in found if f[1] != "base.yaml"] == expected


def test_internal_rule_used_only_by_a_variant_is_used(tmp_path, monkeypatch):
    found = _lint(tmp_path, monkeypatch, "rules:\n  extra: {entity: household, type: bool, source: 'D:1', "
                                         "expr: income < helper}\n")
    assert ("W904", "base.yaml", 15) not in found


def _lint(tmp_path, monkeypatch, variant: str) -> list:
    monkeypatch.chdir(tmp_path)
    Path("base.yaml").write_text(LINT_BASE, encoding="utf-8")
    Path("v.yaml").write_text("variant: v\nsource: 'D:1'\n" + variant, encoding="utf-8")
    diags, _ = check_all(load_source("."))
    assert [d for d in diags if d.severity == "error"] == []
    return [(d.code, d.span.file, d.span.line) for d in diags]


TITLE = '{zh: "{age} 岁", en: "aged {age}"}'


@pytest.mark.parametrize("title, expected", [
    (TITLE, None),
    ('{zh: "{{age}} 岁，{age} 岁"}', None),
    ('{zh: "{agee} 岁", en: "aged {age}"}',
     "policy/entities.yaml:109:17: error[E111]: the title (zh) of entity `member` names `agee`, which the entity "
     "does not declare (did you mean `age`?)"),
    ('{zh: "{age} 岁", en: "aged {age"}',
     "policy/entities.yaml:109:32: error[E111]: the title (en) of entity `member` has an unmatched brace"),
    ('{zh: "{age:>3} 岁"}',
     "policy/entities.yaml:109:17: error[E111]: the title (zh) of entity `member` formats {age…}: write the field name alone"),
    ('{zh: "第 {0} 位"}',
     "policy/entities.yaml:109:17: error[E111]: the title (zh) of entity `member` names `0`, which the entity does not declare (did you mean `age`?)"),
])
def test_a_title_names_declared_fields(at_root, title, expected):
    """An entity's ``title`` is filled with the child's facts in explanations: every
    placeholder must be a declared field, written bare (E111, at the title's text)."""
    from fupin.dsl.checker import check_all
    from fupin.dsl.loader import load_source

    text = (ROOT / "policy" / "entities.yaml").read_text(encoding="utf-8")
    assert TITLE in text
    diags, _ = check_all(load_source("policy", {"policy/entities.yaml": text.replace(TITLE, title)}))
    got = [d.render("en").splitlines()[0] for d in diags if d.code == "E111"]
    assert got == ([expected] if expected else [])
