"""Decision records (engine/reports/record.py): every result carries one; a stored record
is explained again only under the policy revision that made it; the decision log masks
the fields the pack declares personal; the result schema is generated from the model."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin import load_policy
from fupin.cli.main import main
from fupin.engine.reports.record import ResultDocument, input_hash, result_schema, trace_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "result-schema.json"
EXAMPLES = str(ROOT / "examples" / "households.yaml")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_result_carries_its_record(pack):
    facts = {"id": "R1", "status": "poor", "members": []}
    first, again = pack.evaluate(facts), pack.evaluate(dict(facts))
    rec = first.record
    assert rec.policy_revision == pack.revision and rec.policy_revision.startswith("sha256:")
    assert (rec.variant, rec.on, rec.entity) == ("base", "2020-06-30", "household")
    assert rec.decision_id == again.record.decision_id  # content-addressed: the same decision
    assert pack.evaluate(facts, on="2020-07-01").record.decision_id != rec.decision_id
    assert pack.evaluate(facts, variant="anhui-2020").record.variant == "anhui-2020"
    assert first.to_dict()["record"]["input_hash"] == input_hash(facts)
    assert pack.evaluate(facts, trace=True, only=["monitoring_tier"]).trace.record["decision_id"] == rec.decision_id


@pytest.mark.parametrize("a, b", [({"x": 4999}, {"x": Decimal("4999")}), ({"x": 4800.5}, {"x": Decimal("4800.50")}),
                                  ({"a": 1, "b": 2}, {"b": 2, "a": 1})])
def test_input_hash_reads_numbers_and_keys_canonically(a, b):
    assert input_hash(a) == input_hash(b)
    assert input_hash({"x": "4999"}) != input_hash({"x": 4999})


ODD = {1: 2, "a": [1, {"b": 10 ** 30}], "c": Decimal("1.50"), "d": __import__("datetime").date(2020, 1, 1), "e": 1.5,
       "f": (1, 2), "g": True, "h": None, "i": [[1]], "j": {"k": -0}}


@pytest.mark.parametrize("index, want", [
    (0, "sha256:c2d351c42745994a897a670c60f26911bc0e331beffa70fac5abcc6175c69da2"),
    (9, "sha256:aa5a82cf54cb97dafbe09d5d816640ee0df6d61e339aa6aa24fccee497c04af6"),
    (23, "sha256:1d8985c4f749c4625abb93e86e39bfb5a7eaaf880f8b7b12cd7463444d454dc3"),
    (None, "sha256:a5ac47f3b5c906546d9928be734db18900b9f4c35dddb3a0e877b295aad26d49"),
])
def test_input_hash_is_stable_across_releases(index, want):
    """Stored records are checked against their facts (E842): the canonical form must
    never change. Golden hashes of example households and of odd values."""
    import yaml

    facts = ODD if index is None else yaml.safe_load(Path(EXAMPLES).read_text(encoding="utf-8"))[index]
    assert input_hash(facts) == want


def test_revision_follows_the_files(tmp_path, mini):
    copy = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", copy)
    assert load_policy(copy).revision == mini.revision
    rules = copy / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_policy(copy).revision != mini.revision


def test_eval_json_follows_the_published_schema():
    res = run("eval", ROOT / "policy", EXAMPLES, "--only", "monitoring_tier")
    for item in json.loads(res.stdout, parse_float=Decimal):
        assert ResultDocument.model_validate(item).record.policy_revision.startswith("sha256:")
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == json.loads(json.dumps(result_schema())), \
        "docs/result-schema.json is stale: regenerate it from ResultDocument"
    trace = ROOT / "docs" / "trace-schema.json"
    assert json.loads(trace.read_text(encoding="utf-8")) == json.loads(json.dumps(trace_schema())), \
        "docs/trace-schema.json is stale: regenerate it from Trace"


@pytest.fixture
def stored(tmp_path):
    """A record file of the mini policy (explain --format json), and a copy of the policy."""
    policy = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", policy)
    facts = tmp_path / "h.yaml"
    facts.write_text("- {id: H1, status: exited, income_per_capita: 4800.5, risk_event: false}\n", encoding="utf-8")
    res = run("explain", policy, facts, "--output", "tier", "--format", "json")
    assert res.exit_code == 0, res.output
    path = tmp_path / "record.json"
    path.write_text(res.stdout, encoding="utf-8")
    return policy, facts, path


def test_a_stored_record_is_explained_again(stored):
    policy, facts, path = stored
    again = run("explain", policy, "--record", path, "--lang", "en")
    assert again.exit_code == 0, again.output
    first, *rest = again.stdout.splitlines(keepends=True)
    assert first.startswith("decision record d-") and " · policy revision " in first
    assert "".join(rest) == run("explain", policy, facts, "--output", "tier", "--lang", "en").stdout


def test_a_record_of_another_revision_is_refused_where_it_says_so(stored):
    policy, _, path = stored
    decl = policy / "declarations.yaml"
    text = decl.read_text(encoding="utf-8")
    assert "values: {2016-01-01: 5000}" in text
    decl.write_text(text.replace("values: {2016-01-01: 5000}", "values: {2016-01-01: 5200}"), encoding="utf-8")
    res = run("explain", policy, "--record", path, "--lang", "en")
    assert res.exit_code == 1
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if '"policy_revision"' in text)
    assert f"{path}:{line}:" in res.stderr and "error[E841]" in res.stderr
    assert "cannot be re-explained with today's rules" in res.stderr


@pytest.mark.parametrize("edit, code", [
    (lambda data: data["facts"].update(income_per_capita=9000), "E842"),
    (lambda data: data.pop("record"), "E843"),
])
def test_an_edited_or_broken_record_is_refused(stored, edit, code):
    policy, _, path = stored
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    res = run("explain", policy, "--record", path)
    assert res.exit_code == 1 and f"error[{code}]" in res.stderr


def test_the_decision_log_masks_personal_fields(tmp_path):
    log = tmp_path / "decisions.jsonl"
    for _ in range(2):  # appended, one line per decision
        assert run("eval", ROOT / "policy", EXAMPLES, "--only", "monitoring_tier", "--decision-log", log).exit_code == 0
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 * 24
    assert all(line["facts"]["id"] == "***" and line["id"] == "***" for line in lines)  # id: pii: true
    assert lines[0]["facts"]["income_per_capita"] == 4999 and lines[0]["record"]["decision_id"].startswith("d-")
