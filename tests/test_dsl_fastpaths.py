"""The checker's fast paths give exactly what the straightforward paths give.

Reading YAML builds data and positions straight from libyaml's events (no node tree);
these tests hold it to the reference path (screen the events, compose the nodes with
libyaml, convert the nodes): same data with the same types, same positions, and the same
first problem, on every YAML file of the repository, on edge cases and on mutations.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from fupin.dsl import yamlsrc as Y
from fupin.dsl.errors import FupinError

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(Y._FAST is None, reason="libyaml not installed")

EDGE_CASES = [
    "", "# only a comment\n", "--- \n...\n", "x\n", "a: 1\n---\nb: 2\n", "a: 1\n...\n---\nb: 2\n", "a: 1\n--- [\n",
    "a: &x 1\nb: &x 2\n", "a: &a 1\n---\nb: &a 2\n", "a: &x\n  b: 1\nc: &x 2\n", "- &a x\n- &b y\n- &a z\n",
    "a: *x\n", "a: &x 1\nb: *x\n", "a: [1, *b]\n", "- 1\n---\n- *a\n",
    "a: [1, 2\n", "a: b: c\n", "\ta: 1\n", "a: 'x\n  y'\n",
    "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\n", "{a: 1, a: 2}\n", "~: 1\n", ": 1\n", "? [a]\n: 1\n", "? {a: 1}\n: 2\n",
    "? |\n  k\n: v\n", "1: a\n1.5: b\ntrue: c\n", "2020-01-01: 1\n", "2020-02-30: x\n", "!!str 1: a\n",
    "a: 2020-02-30\n", "a: 2020-01-01 10:00:00\n", "a: .inf\nb: .nan\nc: 1.5e3\nd: 1_000.5\n",
    "a: yes\nb: on\nc: True\nd: FALSE\n", "a: 0x1F\nb: 0o17\nc: 1:20\n", "a: !!str 1\nb: !foo x\n",
    "a: !!binary aGVsbG8=\n", "a: !!timestamp 2020-01-01\n", "a: !!int x\n", "a: !!float x\n", "a: !!null x\n",
    "a: !!bool x\n", "!foo\n", "!!set {a, b}\n", "a: !!str\nb: !!int\n", "%YAML 1.1\n---\na: 1\n",
    "- a\n- [b, {c: d}]\n- {e: [f, g]}\n", "a:\n  - b: 1\n    c: [1, 2, {d: e}]\n  - ~\n", "a: {}\nb: []\nc:\nd: {x: }\n",
    "a: |\n  x\n  y\nb: >-\n  z\n", "'a': \"b\"\n\"c\": 'd'\n", "a: \"\\u4e2d\"\n", "a: &k 1\n? &m b\n: 2\n",
    "[" * 64 + "]" * 64, "[" * 70 + "]" * 70, "{" * 65 + "}" * 65, "- " * 70 + "x\n",
]


def _reference(text: str, file: str):
    """load_yaml as it was: screen the events, compose with libyaml, convert the nodes."""
    pos = Y.Positions(file, tuple(text.splitlines()))
    try:
        node = Y._compose(text)
    except Y._AliasFound as exc:
        raise FupinError(Y.error("E102", Y._span(file, exc.mark))) from None
    except Y._TagFound as exc:  # tags outside the core schema, screened with the aliases
        raise FupinError(Y.error("E821", Y._span(file, exc.mark), tag=Y._show_tag(exc.tag))) from None
    except Y.yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FupinError(Y._syntax_error(file, mark, pos.raw_lines, exc.problem, exc.context)) from None
    except Y.yaml.YAMLError as exc:
        raise FupinError(Y._syntax_error(file, None, pos.raw_lines, str(exc), None)) from None
    except RecursionError:
        raise FupinError(Y.error("E101", Y.Span(file, 1, 1), detail=Y._nesting())) from None
    if node is None:
        return None, pos
    return Y._convert(node, (), pos, 0), pos


def _typed(x):
    if isinstance(x, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in x.items()])
    if isinstance(x, list):
        return ("list", [_typed(v) for v in x])
    return (type(x).__name__, repr(x))


def _outcome(load, text):
    try:
        data, pos = load(text, "f.yaml")
    except FupinError as exc:
        return ("error", [(d.code, d.span, d.message("en"), d.message("zh")) for d in exc.diagnostics])
    except Exception as exc:  # noqa: BLE001 - a crash must be the same crash (`!!float x`)
        return ("crash", type(exc).__name__, str(exc))
    return ("ok", _typed(data), pos.values, pos.keys)


def _repo_texts() -> list[str]:
    out = []
    for folder in ("policy", "tests", "examples", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.y*ml")):
            out.append(path.read_text(encoding="utf-8"))
    return out


def test_yaml_events_match_reference_on_repository_files():
    texts = _repo_texts()
    assert len(texts) > 40
    for text in texts:
        assert _outcome(Y.load_yaml, text) == _outcome(_reference, text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_yaml_events_match_reference_on_edge_cases(text):
    assert _outcome(Y.load_yaml, text) == _outcome(_reference, text)


def test_yaml_events_match_reference_on_mutations():
    rnd = random.Random(7)
    kinds = set()
    for text in _repo_texts()[:40]:
        lines = text.split("\n")
        for _ in range(6):
            mutated = list(lines)
            i = rnd.randrange(len(mutated))
            op = rnd.randrange(4)
            if op == 0:
                del mutated[i]
            elif op == 1:
                mutated.insert(i, mutated[rnd.randrange(len(mutated))])
            elif op == 2 and mutated[i]:
                j = rnd.randrange(len(mutated[i]))
                mutated[i] = mutated[i][:j] + rnd.choice(":-[]{}&*!'\"#? \t|>,") + mutated[i][j:]
            else:
                mutated[i] = "  " + mutated[i]
            got = _outcome(Y.load_yaml, "\n".join(mutated))
            assert got == _outcome(_reference, "\n".join(mutated))
            kinds.add(got[0] if got[0] == "ok" else got[1][0][0])
    assert {"ok", "E101", "E104"} <= kinds


# --- variants take over the base's checked rules, parameters and declarations

import dataclasses  # noqa: E402
import shutil  # noqa: E402

from pydantic import BaseModel  # noqa: E402

from fupin.dsl import checker as C  # noqa: E402
from fupin.dsl.loader import load_source  # noqa: E402


def _canon(x):
    """A comparable picture of checker output (typed nodes compare by identity)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, [(f.name, _canon(getattr(x, f.name))) for f in dataclasses.fields(x)])
    if isinstance(x, BaseModel):
        return (type(x).__name__, x.model_dump())
    if isinstance(x, dict):
        return ("dict", [(_canon(k), _canon(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_canon(v) for v in x])
    if isinstance(x, (set, frozenset)):
        return ("set", sorted(map(repr, x)))
    return (type(x).__name__, repr(x))


def _picture(result):
    return ([(d.code, d.span, d.message("en"), d.message("zh")) for d in result.diagnostics],
            result.policy is None, sorted(result.params_used), _canon(result.checked))


def _assert_variants_as_if_alone(path) -> int:
    """check_all's views equal checking each view on its own; returns rules shared."""
    src = load_source(path)
    _, together = C.check_all(src)
    alone = {"base": C.check(src)}
    for name in src.variants:
        alone[name] = C.check(src, name)
    assert list(together) == list(alone)
    shared = 0
    base_rules = together["base"].checked.rules
    for name in together:
        assert _picture(together[name]) == _picture(alone[name]), name
        if name != "base":
            shared += sum(1 for n, r in together[name].checked.rules.items() if base_rules.get(n) is r)
    return shared


def test_variants_share_base_checks_in_the_pack():
    assert _assert_variants_as_if_alone(ROOT / "policy") > 200


@pytest.mark.parametrize("fixture", ["mini", "broken", "columnar"])
def test_variants_share_base_checks_in_fixtures(fixture):
    _assert_variants_as_if_alone(ROOT / "tests" / "fixtures" / fixture)


EXTRA_RULES = """entity: household
rules:
  tier_by_line:
    type: tier
    source: "001:78"
    table:
      hit: unique
      inputs: {收入: income_per_capita}
      rows:
        - {收入: "< red_line", then: red, source: "001:78"}
        - {收入: ">= red_line", then: green, source: "001:78"}
  many_workers: {type: bool, source: "001:78", expr: workers > 2}
  low_typo: {type: bool, source: "001:78", expr: incme < red_line}
  half_line: {type: money, source: "001:78", expr: red_line / 2}
"""

VARIANTS = {
    "param_type": "variant: param_type\nsource: '001:78'\nparameters:\n  red_line: {type: integer}\n",
    "param_values": ("variant: param_values\nsource: '001:78'\nparameters:\n"
                     "  red_line: {values: {2016-01-01: 5000, 2019-01-01: 4000}}\n"),
    "param_bad": "variant: param_bad\nsource: '001:78'\nparameters:\n  red_line: {values: {2016-01-01: lots}}\n",
    "rule_type": ("variant: rule_type\nsource: '001:78'\nrules:\n"
                  "  workers: {type: decimal, expr: count(members where age >= 16) * 1.5}\n"),
    "adds_name": ("variant: adds_name\nsource: '001:78'\nrules:\n"
                  "  incme: {type: money, entity: household, source: '001:78', expr: income_per_capita}\n"),
    "labels_only": "variant: labels_only\nsource: '001:78'\nrules:\n  many_workers: {labels: {zh: 多劳动力}}\n",
    "chained": ("variant: chained\nextends: param_values\nsource: '001:78'\nexceptions:\n  half_line:\n"
                "    - {id: zero, when: wubao, value: 0元, source: '001:78'}\n"),
    "unknown_param": "variant: unknown_param\nsource: '001:78'\nparameters:\n  red_lin: {values: {2016-01-01: 1}}\n",
}


def test_variants_share_base_checks_only_where_nothing_changes(tmp_path):
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", tmp_path / "p", ignore=shutil.ignore_patterns("tests"))
    (tmp_path / "p" / "extra.yaml").write_text(EXTRA_RULES, encoding="utf-8")
    decls = tmp_path / "p" / "declarations.yaml"  # no document file: declarations say nothing
    decls.write_text(decls.read_text(encoding="utf-8").replace(
        "file: doc001.txt, ", ""), encoding="utf-8")
    for name, text in VARIANTS.items():
        (tmp_path / "p" / "variants" / f"{name}.yaml").write_text(text, encoding="utf-8")
    src = load_source(tmp_path / "p")
    assert set(VARIANTS) <= set(src.variants)
    assert _assert_variants_as_if_alone(tmp_path / "p") > 0


# --- expressions: the recursive-descent reader against Lark

from fupin.dsl import fastparse as F  # noqa: E402
from fupin.dsl import larkparse as L  # noqa: E402
from fupin.dsl.syntax import ParseFailure  # noqa: E402
from fupin.dsl.checker.rules import expr_text  # noqa: E402


def _dump(node):
    """The AST with its offsets (node equality leaves offsets out)."""
    if dataclasses.is_dataclass(node):
        return (type(node).__name__, tuple((f.name, _dump(getattr(node, f.name))) for f in dataclasses.fields(node)))
    if isinstance(node, tuple):
        return tuple(_dump(x) for x in node)
    return (type(node).__name__, repr(node))


def _lark_outcome(text, test):
    try:
        return ("ok", _dump(L.parse(text, test)))
    except ParseFailure as exc:
        return ("fail", exc.code, exc.offset, exc.length, repr(exc.details))


def _fast_outcome(text, test):
    try:
        return ("ok", _dump(F.parse_fast(text, test)))
    except F.Unsure:
        return None


def _policy_texts(path) -> list:
    src = load_source(path)
    out = []
    for r in src.rules.values():
        if r.expr is not None:
            out.append((expr_text(r.expr), False))
        for e in r.exceptions:
            out += [(expr_text(e.when), False), (expr_text(e.value), False)]
        if r.table is not None:
            out += [(expr_text(getattr(i, "expr", i)), False) for i in r.table.inputs.values()]
            for row in r.table.rows:
                for k, v in (row.items() if isinstance(row, dict) else ()):
                    if k == "then":
                        out.append((expr_text(v), False))
                    elif k not in ("id", "reason", "source", "note") and isinstance(v, str):
                        out.append((v, True))
    for variant in src.variants.values():
        out += [(expr_text(r["expr"]), False) for r in variant.rules.values() if "expr" in r]
        for excs in variant.exceptions.values():
            out += [(expr_text(x), False) for e in excs for x in (e.when, e.value)]
    return list(dict.fromkeys(out))


def test_fast_reader_reads_every_expression_of_the_pack_as_lark_does():
    texts = _policy_texts(ROOT / "policy")
    assert len(texts) > 230
    for text, test in texts:
        fast = _fast_outcome(text, test)
        assert fast is not None, text  # the pack never needs Lark
        assert fast == _lark_outcome(text, test), text


@pytest.mark.parametrize("fixture", ["mini", "columnar", "broken"])
def test_fast_reader_agrees_with_lark_on_fixtures(fixture):
    for text, test in _policy_texts(ROOT / "tests" / "fixtures" / fixture):
        fast = _fast_outcome(text, test)
        assert fast is None or fast == _lark_outcome(text, test), text


TRICKY = [
    ("a andy", False), ("a and y", False), ("x orb", False), ("a 且b", False), ("a且 b", False), ("3万元", False),
    ("3 万", False), ("3万人", False), ("3元 + 2", False), ("12.5%", False), ("007", False), ("1.0万", False),
    ("a or if", False), ("if a then b else c or d", False), ("如果 a 则 b 否则 c", False), ("a == then", False),
    ("(a + b) * c", False), ("((a))", False), ("-(a)", False), ("- - a", False), ("not not a", False),
    ("非 a 且 b", False), ("household.status", False), ("household . if", False), ("(household).x", False),
    ("a.5", False), ("f()", False), ("f(a, b)", False), ("count(members where age > 3)", False),
    ("sum(members where a, b)", False), ("sum(members where a: b)", False), ("max(members: age)", False),
    ("x in {a, b}", False), ("x not in {}", False), ("x 非 in [1, 2)", False), ("x in (1, 2]", False),
    ("x in (1)", False), ("a < b <= c", False), ("a = b", False), ("a ≠ b", False), ("2020-01-01", False),
    ("2020-02-30", False), ("2020-01-011", False), ('"s" == \'t\'', False), ("“中”", False), ("是 或 否", False),
    ("a\u3000and\nb", False), ("a\u00a0and b", False), ("a !", False), ("", False), ("   ", False),
    ("< 5000", True), ("[5000, 10000)", True), ("(5000, 10000]", True), ("(5000)", True), ("{a, b}", True),
    ("not {a}", True), ("非 [1, 2]", True), ("any", True), ("(any)", True), ("任意 ", True), ("a + 1", True),
    ("≥ red_line", True), ("> -1", True), ("a and b", True), ("< < 5000", True), ("not", True),
    ("not " * 60 + "a", False), ("- " * 120 + "a", False), (".".join(["a"] * 120), False),
    (" + ".join(["a"] * 1600), False), ("(" * 40 + "a" + ")" * 40, False), ("a" + " and b" * 95, False),
]


@pytest.mark.parametrize("text, test", TRICKY)
def test_fast_reader_agrees_with_lark_on_tricky_texts(text, test):
    fast = _fast_outcome(text, test)
    assert fast is None or fast == _lark_outcome(text, test)


def test_fast_reader_agrees_with_lark_on_generated_texts():
    import exprgen

    rnd = random.Random(11)
    answered = 0
    for text, test in exprgen.generate(rnd, 3000, [t for t in _policy_texts(ROOT / "policy")]):
        fast = _fast_outcome(text, test)
        if fast is not None:
            answered += 1
            assert fast == _lark_outcome(text, test), (text, test)
    assert answered > 500


# --- decision tables: row sets per axis value against testing every row per combination

from fupin.dsl.checker import tables as TB  # noqa: E402


def _table_findings(path):
    """(rule, day, gaps and overlaps both ways) for every analysable table and date."""
    src = load_source(path)
    _, results = C.check_all(src)
    out = []
    for result in results.values():
        checked = result.checked
        fields = {e: ent.fields for e, ent in checked.entities.items()}
        for rule in checked.rules.values():
            table = rule.table
            if table is None or not table.rows or any(i.expr is None for i in table.inputs):
                continue
            names = [i.name for i in table.inputs]
            for day in TB._dates(table, checked.params):
                try:
                    axes = [TB._axis(i, table.rows, checked.enums, fields, checked.params, day) for i in table.inputs]
                except TB._NotConstant:
                    break
                fast = TB._combinations(table, names, axes, checked.params, day)
                slow = TB._combinations_by_row(table, names, axes, checked.params, day)
                out.append((rule.name, day, fast, slow))
    return out


def _findings_picture(found):
    gaps, overlaps = found
    return ([_canon(g) for g in gaps], [(a.index, b.index, _canon(v)) for a, b, v in overlaps])


@pytest.mark.parametrize("path", ["policy", "tests/fixtures/mini", "tests/fixtures/broken", "tests/fixtures/columnar"])
def test_table_analysis_by_row_sets_finds_what_testing_every_row_finds(path):
    findings = _table_findings(ROOT / path)
    assert findings
    for name, day, fast, slow in findings:
        assert _findings_picture(fast) == _findings_picture(slow), (name, day)


def test_table_analysis_by_row_sets_on_gaps_and_overlaps(tmp_path):
    shutil.copy(ROOT / "tests" / "fixtures" / "mini" / "declarations.yaml", tmp_path / "declarations.yaml")
    (tmp_path / "rules.yaml").write_text("""entity: household
rules:
  overlapping:
    type: tier
    source: "001:78"
    table:
      hit: unique
      inputs: {s: status, i: income_per_capita, r: risk_event}
      rows:
        - {s: "{poor, exited}", i: "< 5000", then: red, source: "001:78"}
        - {s: exited, i: "[4000, 9000)", then: yellow, source: "001:78"}
        - {s: "not {poor}", r: true, then: red, source: "001:78"}
        - {i: ">= 9000", r: false, then: green, source: "001:78"}
        - {s: exited, i: "(3000, 4000]", then: green, source: "001:78"}
  gappy:
    type: tier
    source: "001:78"
    table:
      inputs: {i: income_per_capita, r: risk_event}
      rows:
        - {i: "< red_line", r: true, then: red, source: "001:78"}
        - {i: "> 7000", then: green, source: "001:78"}
  collecting:
    type: integer
    source: "001:78"
    table:
      hit: collect
      aggregate: count
      inputs: {i: income_per_capita}
      rows:
        - {i: "< 100"}
        - {i: "> 50"}
""", encoding="utf-8")
    findings = _table_findings(tmp_path)
    assert {name for name, *_ in findings} == {"overlapping", "gappy", "collecting"}
    assert any(fast[0] for _, _, fast, _ in findings) and any(fast[1] for _, _, fast, _ in findings)
    for name, day, fast, slow in findings:
        assert _findings_picture(fast) == _findings_picture(slow), (name, day)
    diags, _ = C.check_all(load_source(tmp_path))
    assert {"E601", "E602"} <= {d.code for d in diags}
