"""`fupin schema` (issue 13 item 6): JSON Schemas for rule files and facts files, used
by a real validator (jsonschema, Draft 2020-12) on every file of the pack and on every
facts of its YAML cases, and rejecting the usual mistakes."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

jsonschema = pytest.importorskip("jsonschema")

from fupin.cli.main import main  # noqa: E402
from fupin.dsl.yamlsrc import load_yaml, load_yaml_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policy"


def _json(x):
    """YAML as read (dates, Decimals) → JSON values, as an editor's YAML server sees them."""
    if isinstance(x, dict):
        return {str(k): _json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json(v) for v in x]
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, Decimal):
        return int(x) if x == x.to_integral_value() else float(x)
    return x


def _schema(*args) -> dict:
    res = CliRunner().invoke(main, ["schema", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.fixture(scope="module")
def rules():
    schema = _schema("rules", str(PACK))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def facts():
    out = {}

    def get(entity):
        if entity not in out:
            schema = _schema("facts", str(PACK), "--entity", entity)
            jsonschema.Draft202012Validator.check_schema(schema)
            out[entity] = jsonschema.Draft202012Validator(schema)
        return out[entity]

    return get


PACK_FILES = sorted(p for p in PACK.rglob("*.yaml") if p.parent.name != "tests")


@pytest.mark.parametrize("path", PACK_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_every_pack_file_validates(rules, path):
    data, _ = load_yaml_file(str(path))
    assert [e.message for e in rules.iter_errors(_json(data))] == []


def test_every_case_facts_validate(facts):
    count = 0
    for path in sorted((PACK / "tests").glob("*.yaml")):
        data, _ = load_yaml_file(str(path))
        for case in data.get("cases", []):
            if "facts" in case:
                entity = case.get("entity", data.get("entity", "household"))
                assert [e.message for e in facts(entity).iter_errors(_json(case["facts"]))] == [], case["name"]
                count += 1
    assert count > 300


GOOD_RULE = """entity: household
rules:
  r:
    type: bool
    source: "001:78"
    expr: income_per_capita < 5000
"""


@pytest.mark.parametrize("old, new", [
    ("    type: bool\n", "    type: bool\n    type2: x\n"),                      # unknown key
    ("    type: bool\n", "    type: boolean\n"),                                   # no such type
    ("entity: household", "entity: househld"),                                     # no such entity
    ("  r:\n", '  "a-b":\n'),                                                       # a name no expression can use
    ("income_per_capita < 5000", '"\\0income_per_capita < 5000"'),                 # NUL
    ("income_per_capita < 5000", "（income_per_capita < 5000）"),                  # full-width brackets
    ("    expr: income_per_capita < 5000\n", "    table: {hit: bogus, inputs: {}, rows: []}\n"),  # hit policy
    ("    source: \"001:78\"\n", "    source: \"001:78\"\n    labels: 红色\n"),      # labels must be zh/en
    ("    source: \"001:78\"\n", "    source: \"001:78\"\n    reading: {reason: x}\n"),  # a reading needs its source
])
def test_rules_schema_rejects_mistakes(rules, old, new):
    good, _ = load_yaml(GOOD_RULE, "r.yaml")
    assert list(rules.iter_errors(_json(good))) == []
    assert old in GOOD_RULE
    bad, _ = load_yaml(GOOD_RULE.replace(old, new, 1), "r.yaml")
    assert list(rules.iter_errors(_json(bad))) != []


GOOD_FACTS = {"id": "T", "status": "exited", "income_per_capita": 7000, "members": [{"age": 40, "labor": "full"}]}


@pytest.mark.parametrize("change", [
    {"status": "pooor"},                      # misspelt enum value
    {"income_per_capit": 7000},               # undeclared field
    {"income_per_capita": "7千"},             # not a number
    {"members": [{"age": -1}]},                # below the declared min
    {"members": [{"age": "forty"}]},
    {"members": [{"agee": 40}]},
    {"risk_event": "maybe"},
])
def test_facts_schema_rejects_mistakes(facts, change):
    assert list(facts("household").iter_errors(GOOD_FACTS)) == []
    assert list(facts("household").iter_errors({**GOOD_FACTS, **change})) != []


@pytest.mark.parametrize("spelling", [{"status": "已脱贫"}, {"income_per_capita": "6万"}, {"risk_event": "是"},
                                      {"income_per_capita": None}])
def test_facts_schema_accepts_what_fupin_reads(facts, spelling):
    assert list(facts("household").iter_errors({**GOOD_FACTS, **spelling})) == []


def test_schema_to_a_file_and_usage(tmp_path):
    out = tmp_path / "rules.json"
    assert CliRunner().invoke(main, ["schema", "rules", "-o", str(out)]).exit_code == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(out.read_text(encoding="utf-8")))
    res = CliRunner().invoke(main, ["schema", "facts"])
    assert res.exit_code == 2 and "POLICY" in res.output
