"""The entity a call evaluates when it names none is declared by the policy (`default: true`),
never assumed by the engine."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fupin import FupinError, load_policy
from fupin.dsl.checker import check_all
from fupin.dsl.errors import render_all
from fupin.dsl.loader import load_source

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
DECLARED = "    default: true  # evaluated when a call names no entity\n"


def _mini(tmp_path, replace: str = "") -> Path:
    dest = tmp_path / "p"
    shutil.copytree(MINI, dest, ignore=shutil.ignore_patterns("tests", "variants"))
    decl = dest / "declarations.yaml"
    text = decl.read_text(encoding="utf-8")
    assert text.count(DECLARED) == 1
    decl.write_text(text.replace(DECLARED, replace), encoding="utf-8")
    return dest


def test_a_call_without_entity_evaluates_the_declared_default(mini):
    facts = {"id": "H", "status": "exited", "income_per_capita": 4000, "risk_event": False}
    assert mini.program().checked.default_entity == "household"
    assert mini.evaluate(facts).entity == "household"
    assert mini.evaluate(facts).values == mini.evaluate(facts, entity="household").values


def test_no_default_and_no_entity_named_is_a_located_argument_error(tmp_path):
    policy = load_policy(_mini(tmp_path))
    with pytest.raises(FupinError) as caught:
        policy.evaluate({"id": "H"})
    assert render_all(caught.value.diagnostics, "en").splitlines()[0] == \
        "<arguments>:0:0: error[E814]: no entity named, and the policy declares no default entity"
    assert policy.evaluate({"id": "V", "population": 3}, entity="village").entity == "village"


def test_two_defaults_are_an_error(tmp_path):
    root = _mini(tmp_path, DECLARED)
    decl = root / "declarations.yaml"
    text = decl.read_text(encoding="utf-8")
    decl.write_text(text.replace("  village:\n", "  village:\n    default: true\n", 1), encoding="utf-8")
    diags, _ = check_all(load_source(root))
    errors = [d for d in diags if d.code == "E309"]
    assert len(errors) == 1
    assert "entity `household` is declared default too; `village` already is" in render_all(errors, "en")
