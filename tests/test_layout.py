"""The house's layout holds: one semantic core, no private reach-ins.

Two kinds of test, both data-driven:

- every operator, function and table-cell construct of the core (engine/core) gives
  the same result through the scalar evaluator and the columnar one, on sample values
  including decimals, money and dates (both execute the one meaning);
- no module imports another module's private name (``from .x import _y``) or reads one
  through a module it imported (``x._y``), in any folder of the pipeline;
- the engine names nothing of the pack: no rule, parameter, field, enum value or entity
  name of policy/ stands as a string in engine/ (outside engine/tools, whose generator
  draws the pack's households), dsl/ or cli/.
"""
from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from fupin.engine.api import as_date, load_policy
from fupin.engine.columnar.program import ColumnarProgram
from fupin.engine.core import cells, operators
from test_columnar import assert_agree, frame_of

ROOT = Path(__file__).resolve().parent.parent
DAY = as_date("2020-06-30")

# --- no private reach-ins

CHECKED_FOLDERS = ["dsl", "engine", "cli", "web"]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def reach_ins(source: str) -> list[str]:
    """Private names a module takes from elsewhere: ``from m import _y``, ``alias._y``
    where ``alias`` was bound by an import, and ``obj._y`` on any object but ``self`` or
    ``cls`` (a result's or a declaration's private attribute is not the reader's)."""
    tree = ast.parse(source)
    imported, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in imported:
            found.append(f"line {node.lineno}: {owner.id}.{node.attr}")
        elif not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
            found.append(f"line {node.lineno}: {ast.unparse(node)} (another object's private attribute)")
    return found


@pytest.mark.parametrize("folder", CHECKED_FOLDERS)
def test_no_private_reach_ins(folder):
    problems = {str(path.relative_to(ROOT)): found for path in sorted((ROOT / folder).rglob("*.py"))
                if (found := reach_ins(path.read_text(encoding="utf-8")))}
    assert problems == {}


# --- no pack names in the engine

PACK_FREE = {"engine": ("engine/tools",), "dsl": (), "cli": (), "web": ()}


def _pack_names() -> set:
    from fupin.dsl.loader import load_source

    src = load_source(ROOT / "policy")
    names = set(src.rules) | set(src.parameters) | set(src.entities)
    for ent in src.entities.values():
        names |= set(ent.fields) | ({ent.parent_key} - {None})
    for enum in src.enums.values():
        names |= set(enum.values)
    return names - {"id"}  # the generic key column of every entity and of the quarantine file


def _literals(path: Path, keys: bool = True) -> list:
    """(line, text) of a module's string constants, docstrings left out (and the keys of
    dict displays when not ``keys``: web/ answers in JSON documents whose own members, such
    as RFC 9457's ``status`` or an ASGI message's, may share a word with the pack)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(n, clean=False)}
    if not keys:
        docs |= {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys if k is not None}
        docs |= {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


@pytest.mark.parametrize("folder", sorted(PACK_FREE))
def test_the_engine_names_nothing_of_the_pack(folder):
    names, skip = _pack_names(), PACK_FREE[folder]
    found = [(str(p.relative_to(ROOT)), line, text) for p in sorted((ROOT / folder).rglob("*.py"))
             if not str(p.relative_to(ROOT)).startswith(skip)
             for line, text in _literals(p, keys=folder != "web") if text in names]
    assert found == []


def test_the_pack_name_check_sees_the_pack():
    names = _pack_names()
    assert {"monitoring_tier", "income_per_capita", "poor", "household", "village_id"} <= names


@pytest.mark.parametrize("source, expected", [
    ("from .compile import _compare", ["line 1: from .compile import _compare"]),
    ("from ..scalar.tables import _test as t", ["line 1: from ..scalar.tables import _test"]),
    ("from ..scalar import compile as scalar\nscalar._FUNCTIONS", ["line 2: scalar._FUNCTIONS"]),
    ("import numpy as np\nnp._x", ["line 2: np._x"]),
    ("def _own(): pass\n_own()", []),
    ("x = object()\nx._y", ["line 2: x._y (another object's private attribute)"]),
    ("result._explainer = f", ["line 1: result._explainer (another object's private attribute)"]),
    ("from .why import gated\nfrom ..core.values import Unknown as _U", []),
    ("from __future__ import annotations\nclass C:\n    def __init__(self): self._y = 1", []),
])
def test_reach_ins_finds(source, expected):
    assert reach_ins(source) == expected


# --- the core is the single source: both evaluators give its meaning

I, M, D, DATE = "integer", "money", "decimal", "date"
MONEY_ROWS = [(Decimal("10.05"), 3), (Decimal("-0.05"), 2), (Decimal("1.00"), 0), (Decimal("0.01"), -3)]
PAIRS = {  # operand kinds -> sample rows (None: the fact is missing)
    (I, I): [(7, 2), (-7, 2), (0, 5), (3, 0), (3, None)],
    (M, I): MONEY_ROWS,
    (M, D): [(Decimal("10.05"), Decimal("0.333")), (Decimal("-7.77"), Decimal("1.5")),
             (Decimal("0.05"), Decimal("0"))],
    (D, D): [(Decimal("1.1"), Decimal("3")), (Decimal("-2.5"), Decimal("0.2")), (Decimal("1"), Decimal("0")),
             (Decimal("1.0"), Decimal("1"))],
    (M, M): [(Decimal("1.50"), Decimal("1.49")), (Decimal("2.00"), Decimal("2")), (None, Decimal("1"))],
    (DATE, DATE): [(dt.date(2020, 1, 1), dt.date(2020, 1, 2)), (dt.date(2021, 3, 1), dt.date(2021, 3, 1)),
                   (dt.date(2020, 3, 1), dt.date(2019, 2, 28))],
}
ONE = {  # operand kind -> sample values
    I: [-3, 4, 0, None],
    M: [Decimal("-3.05"), Decimal("0.00"), Decimal("12.34")],
    D: [Decimal("-2.5"), Decimal("2.5"), Decimal("1.49"), Decimal("1.005"), Decimal("-1.005")],
    DATE: [dt.date(1999, 12, 31), dt.date(2024, 2, 29)],
}


def _result_kind(expr: str, kinds: tuple) -> str:
    """The type the checker gives these expressions (comparisons: bool, and so on)."""
    if any(f" {op} " in expr for op in operators.COMPARISONS) or expr.startswith(("is_known", "not")):
        return "bool"
    if expr.startswith("year") or kinds == (DATE, DATE):
        return I
    if M in kinds:
        return M
    return I if set(kinds) == {I} and " / " not in expr else D


CASES = [
    *[(f"a {op} b", pair) for op in operators.COMPARISONS for pair in [(I, I), (M, M), (D, D), (DATE, DATE)]],
    *[(f"a {op} b", pair) for op in operators.ARITHMETIC for pair in [(I, I), (M, I), (D, D)]],
    *[(f"a {op} b", (M, D)) for op in "+-*"],
    ("a - b", (DATE, DATE)),
    *[("-a", (kind,)) for kind in (I, M, D)],
    ("not (a > 1)", (I,)),
    *[(f"{fn}(a, b)", pair) for fn in ("min", "max") for pair in [(I, I), (M, I), (M, M), (D, D)]],
    *[(f"{fn}(a)", (kind,)) for fn in ("abs", "floor", "ceil", "round") for kind in (I, D)],
    ("abs(a)", (M,)),
    ("round(a, 2)", (D,)),
    ("year(a)", (DATE,)),
    ("is_known(a)", (I,)),
]


def test_every_core_construct_is_sampled():
    """A new operator, function or cell construct in the core needs samples here."""
    exprs = " ".join(expr for expr, _ in CASES)
    for op in [*operators.COMPARISONS, *operators.ARITHMETIC]:
        assert f"a {op} b" in exprs
    for op in operators.UNARY:
        assert f"{op}a" in exprs or f"{op} (" in exprs
    for name in operators.FUNCTIONS:
        assert f"{name}(" in exprs
    for construct in cells.CONSTRUCTS:
        assert any(isinstance(cells.of_test(_parsed_cell(text)), construct) for text, _ in CELLS), construct


HEAD = """\
documents:
  D: {{title: {{zh: 文件, en: document}}}}
entities:
  household:
    fields:
      id: {{type: string, required: true}}
{fields}
entity: household
rules:
"""


def _agree(tmp_path, fields: dict, rule: str, rows: list) -> None:
    """Scalar and columnar results of ``rule`` agree on ``rows`` (tuples of the fields'
    values in order; None: the fact is missing)."""
    decl = "\n".join(f"      {name}: {{type: {kind}}}" for name, kind in fields.items())
    (tmp_path / "p.yaml").write_text(HEAD.format(fields=decl) + rule, encoding="utf-8")
    p = load_policy(tmp_path)
    raws = [{name: v for name, v in zip(fields, row) if v is not None} for row in rows]
    frame, records = frame_of(p, None, "household", raws)
    assert frame.n == len(rows)
    assert_agree(ColumnarProgram(p.program()), frame, DAY, records)


@pytest.mark.parametrize("expr, kinds", CASES, ids=[f"{e}:{','.join(k)}" for e, k in CASES])
def test_scalar_and_columnar_agree_on_the_core(tmp_path, expr, kinds):
    rows = PAIRS[kinds] if len(kinds) == 2 else [(v,) for v in ONE[kinds[0]]]
    rule = f'  out: {{type: {_result_kind(expr, kinds)}, source: "D:1", expr: "{expr}"}}\n'
    _agree(tmp_path, dict(zip("ab", kinds)), rule, rows)


# --- table cells: every construct, through the scalar path, the columnar general path
# (a cell reading a fact) and the columnar lookup (constants only)

CELLS = [
    ("any", [1, 5, None]),
    ("< 5000", [4999, 5000, None]),
    ("[5000, 10000)", [4999, 5000, 9999, 10000, None]),
    ("(0, 1]", [0, 1, 2]),
    ("{1, 2, 3}", [0, 2, None]),
    ("not < 10", [9, 10, None]),
    ("not [1, 3]", [0, 1, 3, 4]),
    ("== 7", [7, 8]),
    ("!= 7", [7, 8]),
    (">= 2", [1, 2]),
    ("> 2", [2, 3]),
    ("<= 2", [2, 3]),
    ("< b", [1, 2, 3, None]),
    ("[b, 3]", [1, 2, 3, None]),
    ("{1, b}", [1, 2, 3, None]),
]


def _parsed_cell(text: str):
    """A cell's typed test, checked in a one-rule policy (an integer input)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "p.yaml").write_text(HEAD.format(fields="      a: {type: integer}\n      b: {type: integer}")
                                       + _table_rule(text), encoding="utf-8")
        table = load_policy(tmp).program().checked.rules["out"].table
    return table.rows[0].tests["x"]


def _table_rule(cell: str) -> str:
    return f"""\
  out:
    type: integer
    source: "D:1"
    table:
      hit: first
      inputs: {{x: a}}
      rows:
        - {{x: "{cell}", then: 1}}
        - {{x: "any", then: 0}}
"""


@pytest.mark.parametrize("cell, values", CELLS, ids=[c for c, _ in CELLS])
def test_scalar_and_columnar_agree_on_cells(tmp_path, cell, values):
    rows = [(v, 2) for v in values] + [(v, None) for v in values if v is not None][:1]
    _agree(tmp_path, {"a": I, "b": I}, _table_rule(cell), rows)
    # every input known: constant cells take the lookup (columnar/lookup.py)
    _agree(tmp_path, {"a": I, "b": I}, _table_rule(cell), [(v, 2) for v in values if v is not None])


# --- docs/architecture.md draws the tree file for file

ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for folder in CHECKED_FOLDERS for p in (ROOT / folder).rglob("*")
                  if p.suffix in (".py", ".lark") and p.name != "__init__.py" and "__pycache__" not in p.parts)


def test_architecture_names_every_module():
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    assert [m for m in _modules() if Path(m).name not in doc and Path(m).stem not in doc] == []


def test_architecture_names_no_module_that_is_gone():
    import re

    doc = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:dsl|engine|cli|web)/[a-z_/]+\.(?:py|lark))", doc))
    assert sorted(m for m in named if not (ROOT / m).exists()) == []
