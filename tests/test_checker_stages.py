"""The checker's stages: their order, each one run alone, and check outputs kept; and
dsl/'s house rules: no private reach-ins, no import cycle, errors without the parser.

Each stage of :data:`fupin.dsl.checker.STAGES` is run on a state that the stages before
it prepared, and its effect is asserted from a table; a stage may set only the state
fields it names. The rendered output of ``fupin check`` stays byte for byte the same
(golden files beside the existing ones).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl import checker as C
from fupin.dsl.checker.stages import STAGES, ViewState, run
from fupin.dsl.loader import load_source

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
GOLDEN = ROOT / "tests" / "golden"


# --- (a) the order, as named in code

@pytest.mark.parametrize("stages, names", [
    (C.STAGES, ["ApplyVariant", "CheckDeclarations", "CheckParameters", "DeclareRuleTypes", "CheckRules",
                "CheckBounds", "FindCycles", "AnalyseTables", "BuildPolicy"]),
    (C.POLICY_STAGES, ["CheckViews", "Lint", "Collect"]),
])
def test_stage_names_in_order(stages, names):
    assert [s.name for s in stages] == names
    assert len({s.metric for s in stages}) == len(stages)


def test_metrics_time_every_stage():
    metrics: dict = {}
    C.check_all(load_source(MINI), metrics)
    assert set(metrics) == {s.metric for s in [*C.STAGES, *C.POLICY_STAGES]}
    assert all(v >= 0 for v in metrics.values())


# --- (b) one stage alone

# What each stage may set on the state (beyond diagnostics it appends).
WRITES = {
    "ApplyVariant": {"view", "base", "diags"},
    "CheckDeclarations": {"decls", "quiet_decls", "diags"},
    "CheckParameters": {"params", "quiet_params", "diags"},
    "DeclareRuleTypes": {"symbols", "diags"},
    "CheckRules": {"rules", "reads", "quiet_rules", "taken", "erred", "params_used", "diags"},
    "CheckBounds": {"quiet_rules", "erred", "diags"},
    "FindCycles": {"has_cycle", "diags"},
    "AnalyseTables": {"quiet_rules", "diags"},
    "BuildPolicy": {"checked"},
}

CYCLE = """entity: household
rules:
  ping: {type: bool, source: "001:78", expr: pong}
  pong: {type: bool, source: "001:78", expr: ping}
"""

GAP = """entity: household
rules:
  gappy:
    type: tier
    source: "001:78"
    table:
      hit: unique
      inputs: {收入: income_per_capita}
      rows:
        - {收入: "< 3000", then: red, source: "001:78"}
        - {收入: ">= 4000", then: green, source: "001:78"}
"""


def _codes(state, before):
    return [d.code for d in state.diags[before:]]


# (stage, variant, extra rule file, what must hold after the stage, given the count of
# diagnostics before it)
CASES = [
    ("ApplyVariant", None, None,
     lambda s, n: s.view is s.src and s.base is None),
    ("ApplyVariant", "strict", None,
     lambda s, n: s.view.parameters["red_line"].origin == "strict"
     and s.src.parameters["red_line"].origin == "base" and s.view.rules["tier"].exceptions[-1].origin == "strict"),
    ("CheckDeclarations", None, None,
     lambda s, n: sorted(s.decls.enums) == ["labor", "status", "tier"]
     and sorted(s.decls.entities) == ["household", "member", "village"] and s.quiet_decls),
    ("CheckParameters", "strict", None,
     lambda s, n: sorted(s.params) == ["aid_amount", "red_line"]
     # issue 13: a variant's dated values merge with the base's by date (the base's 2016 value stays)
     and s.params["red_line"].periods == [(dt.date(2016, 1, 1), Decimal(5000)), (dt.date(2020, 1, 1), Decimal(6000))]
     and s.params["red_line"].origin == "strict"),
    ("DeclareRuleTypes", None, None,
     lambda s, n: s.symbols.rule_types["household"]["tier"].name == "tier"
     and s.symbols.params["red_line"].kind == "money"),
    ("CheckRules", None, None,
     lambda s, n: s.rules["tier"].table is not None and not s.taken and "red_line" in s.params_used
     and "tier" in s.reads["tier"][0] and not _codes(s, n)),
    ("CheckRules", None, CYCLE,
     lambda s, n: s.rules["ping"].deps == {"pong"} and s.rules["pong"].deps == {"ping"}),
    ("FindCycles", None, CYCLE,
     lambda s, n: s.has_cycle and _codes(s, n) == ["E501"]),
    ("FindCycles", None, None,
     lambda s, n: not s.has_cycle and not _codes(s, n)),
    ("AnalyseTables", None, GAP,
     lambda s, n: "E601" in _codes(s, n) and "gappy" not in s.quiet_rules),
    ("AnalyseTables", None, None,
     lambda s, n: not _codes(s, n) and s.rules["tier"].table.proven),
    ("BuildPolicy", "strict", None,
     lambda s, n: s.checked.variant == "strict" and s.checked.rules is s.rules and s.checked.params is s.params),
]


@pytest.fixture(scope="module")
def mini_with(tmp_path_factory):
    """The mini fixture, or a copy of it with one extra rule file."""
    made = {None: MINI}

    def make(extra):
        if extra not in made:
            root = tmp_path_factory.mktemp("p") / "mini"
            shutil.copytree(MINI, root, ignore=shutil.ignore_patterns("tests"))
            if extra:
                (root / "extra.yaml").write_text(extra, encoding="utf-8")
            made[extra] = root
        return made[extra]

    return make


def _state_before(name, src, variant, base=None):
    index = [s.name for s in STAGES].index(name)
    return run(ViewState(src, variant, base), STAGES[:index]), STAGES[index]


def _fields(state):
    return {f.name: _snapshot(getattr(state, f.name)) for f in dataclasses.fields(state)}


def _snapshot(value):
    if isinstance(value, (dict, set, list)):
        return (id(value), len(value))
    return id(value)


@pytest.mark.parametrize("name, variant, extra, holds", CASES,
                         ids=[f"{c[0]}-{c[1] or 'base'}-{'extra' if c[2] else 'mini'}" for c in CASES])
def test_one_stage_alone(mini_with, monkeypatch, name, variant, extra, holds):
    root = mini_with(extra)
    monkeypatch.chdir(root.parent)
    state, stage = _state_before(name, load_source(root.name), variant)
    before, count = _fields(state), len(state.diags)
    stage.run(state)
    after = _fields(state)
    changed = {k for k in before if before[k] != after[k]}
    assert changed <= WRITES[name]
    assert holds(state, count)


def test_every_stage_sets_only_what_it_names():
    src = load_source(ROOT / "tests" / "fixtures" / "broken")
    for variant in [None, *src.variants]:
        state = ViewState(src, variant)
        for stage in STAGES:
            before = _fields(state)
            stage.run(state)
            after = _fields(state)
            assert {k for k in before if before[k] != after[k]} <= WRITES[stage.name], (variant, stage.name)


def test_check_rules_takes_over_the_base_alone(monkeypatch):
    """CheckRules run alone on a variant with the base's checks: the rules the variant
    keeps are the base's objects; the one it changes (tier: a new exception) is not."""
    monkeypatch.chdir(ROOT)
    src = load_source("tests/fixtures/mini")
    base_state = C.check_view(src)
    state, stage = _state_before("CheckRules", src, "strict", C.BaseChecks.of(base_state))
    stage.run(state)
    assert state.taken == set(state.rules) - {"tier"}
    assert all(state.rules[n] is base_state.rules[n] for n in state.taken)
    assert state.rules["tier"] is not base_state.rules["tier"]


def test_stages_by_hand_equal_check_all():
    """Running the stage lists by hand gives what check_all gives."""
    src = load_source(ROOT / "policy")
    diags, results = C.check_all(src)
    state = run(C.PolicyState(src), C.POLICY_STAGES)
    assert [(d.code, d.span) for d in state.diagnostics] == [(d.code, d.span) for d in diags]
    assert list(state.results) == list(results)


# --- (c) check outputs kept, byte for byte

@pytest.mark.parametrize("fixture, args, golden", [
    ("tests/fixtures/mini", [], "cli_check_mini.zh.txt"),
    ("tests/fixtures/mini", ["--lang", "en"], "cli_check_mini.en.txt"),
    ("tests/fixtures/mini", ["--format", "json"], "cli_check_mini.json"),
    ("tests/fixtures/broken", [], "check_broken.zh.txt"),
    ("tests/fixtures/broken", ["--lang", "en"], "check_broken.en.txt"),
    ("tests/fixtures/broken", ["--format", "json"], "cli_check_broken.json"),
])
def test_check_output_golden(monkeypatch, fixture, args, golden):
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(main, ["check", fixture + "/", *args], catch_exceptions=False).output
    path = GOLDEN / golden
    if os.environ.get("FUPIN_REGOLD"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


# --- errors and codes load without the parser

def test_errors_import_no_parser():
    code = ("import sys, fupin.dsl.errors, fupin.dsl.codes; "
            "print([m for m in sys.modules if m.split('.')[0] == 'lark' or "
            "(m.startswith('fupin') and ('parse' in m or 'lark' in m))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- dsl/: no private reach-ins, an acyclic import graph, loc and origin not settable from YAML

import ast as pyast  # noqa: E402

DSL = ROOT / "dsl"


def _dsl_modules():
    for path in sorted(DSL.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield ".".join(parts), path, path.name == "__init__.py"


def _imports(module, path, is_package):
    """The dsl modules ``module`` imports (relative imports, lazy ones included)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    known = {m for m, _, _ in _dsl_modules()}
    out = set()
    for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, pyast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return out - {module}


@pytest.mark.parametrize("module, path, is_package", list(_dsl_modules()), ids=[m for m, _, _ in _dsl_modules()])
def test_dsl_module_reaches_into_nothing_private(module, path, is_package):
    tree = pyast.parse(path.read_text(encoding="utf-8"))
    for node in pyast.walk(tree):
        if isinstance(node, pyast.ImportFrom) and node.level:
            assert not [a.name for a in node.names if a.name.startswith("_")], (module, node.lineno)
            assert not [a.asname for a in node.names if (a.asname or "").startswith("_")], (module, node.lineno)
        if isinstance(node, pyast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            assert isinstance(owner, pyast.Name) and owner.id in ("self", "cls"), (module, node.lineno, node.attr)


def test_dsl_import_graph_is_acyclic():
    graph = {m: _imports(m, p, pkg) for m, p, pkg in _dsl_modules()}
    state: dict = {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            assert state.get(n) != "open", " -> ".join(path + [n])
            if n not in state:
                visit(n, path + [n])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert "dsl.parser" not in graph["dsl.larkparse"]


@pytest.mark.parametrize("key", ["loc", "origin", "_loc", "_origin", "locate"])
def test_yaml_cannot_set_loc_or_origin(tmp_path, key):
    (tmp_path / "rules.yaml").write_text(
        f"rules:\n  r: {{type: bool, entity: household, expr: 'true', {key}: x}}\n", encoding="utf-8")
    src = load_source(tmp_path)
    assert [d.code for d in src.diagnostics] == ["E103"]
    assert "r" not in src.rules
