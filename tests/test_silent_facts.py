"""No silent facts (issue 11, item 2): every fact that would vanish is reported.

Undeclared fields (E815 with a did-you-mean, or W906 when allowed) in eval, explain,
test, the API and batch; facts of another entity (E817); a CSV batch missing a joinable
list (E816); enum values spelled by their labels; the as-of date declared by the pack
(E819 without one) and stated by every result.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from fupin import FupinError, load_policy
from fupin.cli.main import main
from fupin.dsl.checker.checked import CField
from fupin.dsl.types import Type
from fupin.engine.batch.columns import CellChecker, convert
from fupin.engine.batch.layout import field_spec
from fupin.engine.columnar.frame import enum_values
from fupin.engine.facts.read import FactsFile
from fupin.engine.tools.cases import load_cases, run_case

ROOT = Path(__file__).resolve().parent.parent
MINI = str(ROOT / "tests/fixtures/mini")


def _rendered(exc: FupinError, lang: str = "en") -> str:
    return exc.render(lang)


# --- undeclared fields

@pytest.mark.parametrize("facts, path, guess", [
    ({"id": "H", "registerd": True}, "registerd", "registered"),
    ({"id": "H", "members": [{"age": 3}, {"agee": 30}]}, "members[1].agee", "age"),
    ({"id": "H", "incme_per_capita": 100}, "incme_per_capita", "income_per_capita"),
])
def test_unknown_field_is_an_error_with_a_guess(pack, facts, path, guess):
    with pytest.raises(FupinError) as info:
        pack.evaluate(facts)
    d = info.value.diagnostics[0]
    assert d.code == "E815"
    who = "household member" if "[" in path else "household"
    assert d.message("en") == f"{who} `H`: field `{path}` is not declared by the entity"
    assert d.message("zh") == f"{'家庭成员' if '[' in path else '农户'} `H`：字段 `{path}` 未在实体中声明"
    assert d.hint("en") == f"did you mean `{guess}`? (to ignore undeclared fields: --allow-unknown-fields)"


def test_unknown_field_without_a_guess_lists_the_fields(mini):
    with pytest.raises(FupinError) as info:
        mini.evaluate({"id": "H", "zzz": 1})
    assert info.value.diagnostics[0].hint("en").startswith("fields of household: id, status, income_per_capita")


def test_allowed_unknown_field_is_a_warning_on_the_result(pack):
    result = pack.evaluate({"id": "H", "registerd": True}, allow_unknown_fields=True, only=["monitoring_tier"])
    assert [w.code for w in result.warnings] == ["W906"]
    assert result.warnings[0].message_en == ("household `H`: field `registerd` is not declared by the entity; "
                                             "ignored (did you mean `registered`?)")


def test_parent_key_is_not_an_unknown_field(pack):
    """``village_id`` names the household's village in flat files: not a fact, not a typo."""
    result = pack.evaluate({"id": "H", "village_id": "V1", "members": [{"age": 3, "household_id": "H"}]},
                           only=["monitoring_tier"])
    assert result.warnings == []


def test_unknown_field_located_at_its_key(pack, tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("id: H\nstatus: poor\nmembers:\n  - {age: 3, agee: 4}\n", encoding="utf-8")
    ffile = FactsFile(str(path))
    [item] = pack.evaluate_file(ffile)
    assert item.result is None
    assert str(item.invalid[0].span) == f"{path}:4:14"


def test_cli_eval_and_explain_fail_then_allow(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"id": "H1", "status": "exited", "income_per_capita": 4800, "risk_event": False,
                                "wubao": False, "registerd": True}), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(main, ["eval", MINI, str(path), "--only", "tier", "--lang", "en"])
    assert res.exit_code == 1
    assert "error[E815]" in res.stderr and "did you mean `registered_on`?" in res.stderr
    res = runner.invoke(main, ["eval", MINI, str(path), "--only", "tier", "--allow-unknown-fields"])
    assert res.exit_code == 0 and "warning[W906]" in res.stderr
    assert json.loads(res.stdout)["results"] == {"tier": "red"}
    assert json.loads(res.stdout)["warnings"][0]["code"] == "W906"
    res = runner.invoke(main, ["explain", MINI, str(path), "--output", "tier"])
    assert res.exit_code == 1 and "E815" in res.stderr
    res = runner.invoke(main, ["explain", MINI, str(path), "--output", "tier", "--allow-unknown-fields"])
    assert res.exit_code == 0 and "warning[W906]" in res.stderr


CASES = """\
cases:
  - name: typo fails
    facts: {id: H, status: exited, income_per_capita: 4800, registerd: true}
    expect: {tier: red}
  - name: typo allowed
    allow_unknown_fields: true
    facts: {id: H, status: exited, income_per_capita: 4800, registerd: true}
    expect: {tier: red}
  - name: typo expected
    facts: {id: H, registerd: true}
    error: E815
"""


def test_cases_fail_on_unknown_fields_unless_they_opt_in(mini, tmp_path):
    path = tmp_path / "tests" / "cases.yaml"
    path.parent.mkdir()
    path.write_text(CASES, encoding="utf-8")
    failing, allowed, expected = (run_case(mini, c) for c in load_cases(path))
    assert failing.failures[0]["zh"].startswith("错误 E815: 农户 `H`：字段 `registerd` 未在实体中声明 — 是否想写 `registered_on`？")
    assert failing.failures[0]["zh"].endswith("cases.yaml:3:61)")
    assert failing.failures[0]["en"].startswith("error E815: household `H`: field `registerd` is not declared")
    assert allowed.ok, allowed.failures
    assert expected.ok, expected.failures


# --- facts of another entity

def test_village_facts_as_household(pack):
    village = {"id": "V1", "population": 300, "road_hardened": True, "households": []}
    with pytest.raises(FupinError) as info:
        pack.evaluate(village)
    assert _rendered(info.value).splitlines()[0] == (
        "<facts>:0:0: error[E817]: household `V1`: these facts look like `village` "
        "(`population`, `road_hardened`, `households`), not `household`")
    assert pack.evaluate(village, entity="village").on == "2020-06-30"


def test_household_with_a_typo_is_not_another_entity(pack):
    with pytest.raises(FupinError) as info:
        pack.evaluate({"id": "H", "status": "poor", "populaton": 3})
    assert info.value.code == "E815"


# --- enum labels

@pytest.mark.parametrize("spelled", ["exited", "已脱贫", "registered, exited", "Registered, Exited", " 已脱贫 ",
                                     "EXITED"])
def test_enum_values_by_label(pack, spelled):
    result = pack.evaluate({"id": "H", "status": spelled, "members": [{"labor": "有劳动能力"}]},
                           only=["monitoring_tier"])
    assert result.id == "H"
    typed, _ = pack.facts_checker().validate({"id": "H", "status": spelled}, "household")
    assert typed["status"] == "exited"


def test_unknown_label_still_rejected(pack):
    with pytest.raises(FupinError) as info:
        pack.evaluate({"id": "H", "status": "已经脱贫"})
    assert info.value.code == "E802"


def test_ambiguous_labels_are_a_checker_error(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "defaults: {on: 2020-06-30}\n"
        "enums:\n  colour:\n    values:\n      red: {zh: 红, en: Blue}\n      blue: {zh: 蓝, en: blue}\n"
        "entities:\n  thing:\n    fields:\n      c: {type: colour}\n", encoding="utf-8")
    with pytest.raises(FupinError) as info:
        load_policy(tmp_path)
    d = info.value.diagnostics[0]
    assert d.code == "E818" and d.message("en") == "enum `colour`: the label `blue` could mean `red` or `blue`"
    assert (d.span.line, d.span.col) == (6, 7)


# --- the as-of date

def test_default_date_is_declared_and_stated(pack, mini):
    assert pack.default_date() == dt.date(2020, 6, 30)
    assert pack.evaluate({"id": "H"}, only=["monitoring_tier"]).on == "2020-06-30"
    assert mini.evaluate({"id": "H"}, on="2019-01-01").on == "2019-01-01"


def test_no_declared_date_requires_on(tmp_path):
    (tmp_path / "p.yaml").write_text("entities:\n  thing:\n    fields:\n      n: {type: integer}\n"
                                     "entity: thing\nrules:\n  twice: {type: integer, expr: n * 2}\n",
                                     encoding="utf-8")
    policy = load_policy(tmp_path)
    with pytest.raises(FupinError) as info:
        policy.evaluate({"n": 2})
    assert _rendered(info.value) == (
        "<arguments>:0:0: error[E819]: no as-of date given, and the policy declares no default date\n"
        "  = hint: give --on YYYY-MM-DD (API: on=…), or declare defaults: {on: YYYY-MM-DD} in the policy")
    assert policy.evaluate({"n": 2}, on="2020-01-01")["twice"] == 4


def test_bad_default_date_is_located(tmp_path):
    (tmp_path / "p.yaml").write_text("defaults: {on: 2020-13-01}\n", encoding="utf-8")
    with pytest.raises(FupinError) as info:
        load_policy(tmp_path)
    assert info.value.code in ("E103", "E101")


def test_eval_text_states_the_date(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"id": "H1", "status": "poor"}), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(main, ["eval", MINI, str(path), "--only", "tier", "--format", "text", "--lang", "en"])
    assert res.stdout.splitlines()[0] == "as of 2020-06-30 (the policy's default date)"
    res = runner.invoke(main, ["eval", MINI, str(path), "--only", "tier", "--format", "text", "--on", "2019-05-01"])
    assert res.stdout.splitlines()[0] == "评估日期 2019-05-01"


# --- batch: structural absence, wrong entity, labels, warnings

@pytest.fixture
def batch(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["batch", *args], catch_exceptions=False)


HOUSEHOLDS = "id,status,income_per_capita,registerd,village_id\nH1,已脱贫,4800,true,V1\nH2,Exited,6000,,V1\n"


def test_csv_without_members_is_an_error(batch, tmp_path):
    (tmp_path / "h.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    res = batch("policy", str(tmp_path / "h.csv"), "-o", str(tmp_path / "out.csv"), "--lang", "en")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == ("<arguments>:0:0: error[E816]: no `members` given (household member): "
                                          "the child rows of a CSV input come in a file of their own")
    assert not (tmp_path / "out.csv").exists()


def test_csv_batch_reads_labels_warns_per_column_and_states_the_date(batch, tmp_path):
    (tmp_path / "h.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    (tmp_path / "m.csv").write_text("household_id,age,labor\nH1,30,有劳动能力\nH2,40,full\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    res = batch("policy", str(tmp_path / "h.csv"), "--members", str(tmp_path / "m.csv"), "-o", str(out),
                "--only", "monitoring_tier", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert ("warning[W906]: household `*`: field `registerd` is not declared by the entity; ignored "
            "(did you mean `registered`?)") in res.stderr
    assert "as of 2020-06-30 (the policy's default date)" in res.stderr
    assert "rows quarantined 0" in res.stderr
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith('"H1","V1","red"')


def test_village_rows_as_households_stop_the_batch(batch, tmp_path):
    res = batch("policy", "tests/fixtures/batch/villages.jsonl", "-o", str(tmp_path / "out.csv"), "--lang", "en")
    assert res.exit_code == 1
    assert "error[E817]" in res.stderr and "--entity village" in res.stderr


def test_village_csv_needs_households_and_their_members(batch, tmp_path):
    fix = "tests/fixtures/batch/"
    res = batch("policy", fix + "villages.csv", "--entity", "village", "--households", fix + "village_households.csv",
                "-o", str(tmp_path / "out.csv"), "--lang", "en")
    assert res.exit_code == 1 and "no `households[].members` given" in res.stderr


def test_jsonl_without_any_members_is_an_error(batch, tmp_path):
    (tmp_path / "h.jsonl").write_text('{"id": "H1", "status": "poor"}\n{"id": "H2"}\n', encoding="utf-8")
    res = batch("policy", str(tmp_path / "h.jsonl"), "-o", str(tmp_path / "out.csv"), "--lang", "en")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == ("<arguments>:0:0: error[E816]: no `members` given (household member): "
                                          "no row of the input's first chunk has it")
    (tmp_path / "h.jsonl").write_text('{"id": "H1", "status": "poor", "members": []}\n{"id": "H2"}\n', encoding="utf-8")
    assert batch("policy", str(tmp_path / "h.jsonl"), "-o", str(tmp_path / "out.csv")).exit_code == 0


OPTIONAL = """\
defaults: {on: 2020-06-30}
entities:
  household:
    default: true
    fields:
      id: {type: string, required: true}
      members: {type: list, of: member, optional: true}
  member:
    parent: household
    parent_key: household_id
    fields:
      age: {type: integer}
entity: household
rules:
  size: {type: integer, expr: count(members)}
"""


def test_optional_list_may_be_left_out_of_a_csv(tmp_path):
    from fupin.engine import batch as eb

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "p.yaml").write_text(OPTIONAL, encoding="utf-8")
    (tmp_path / "h.csv").write_text("id\nH1\n", encoding="utf-8")
    policy = load_policy(tmp_path / "p")
    job = eb.Job(policy)
    source = eb.Source(str(tmp_path / "h.csv"), job.layout, {})
    report = eb.run_batch(job, source, str(tmp_path / "out.csv"), "csv", str(tmp_path / "q.csv"))
    assert (report.rows_in, report.rows_out) == (1, 1)
    assert '"H1",,"{""size"": [""members""]}"' in (tmp_path / "out.csv").read_text(encoding="utf-8")


def test_optional_is_for_lists_only(tmp_path):
    (tmp_path / "p.yaml").write_text(OPTIONAL.replace("age: {type: integer}", "age: {type: integer, optional: true}"),
                                     encoding="utf-8")
    with pytest.raises(FupinError) as info:
        load_policy(tmp_path)
    assert info.value.diagnostics[0].message("en") == (
        "`member.age`: optional is for list fields (a scalar field may always be absent)")


def _pack_spellings():
    pack = load_policy(ROOT / "policy")
    checked = pack.program().checked
    out = []
    for enum in checked.enums.values():
        for value, labels in enum.values.items():
            for text in (value, labels.zh, labels.en, f" {labels.zh} ", (labels.en or value).upper()):
                if text:
                    out.append((enum.name, text, value))
    return out


def test_every_pack_label_reads_as_its_value_in_eval_and_batch(pack):
    """Each value of each pack enum, spelled as itself, its zh or en label (padded, upper
    case), reads as that value, in the scalar checker and in a batch text column alike."""
    checked = pack.program().checked
    checker = pack.facts_checker()
    spellings = _pack_spellings()
    assert len(spellings) > 250
    for enum_name, text, value in spellings:
        fld = CField("household", "x", Type("enum", enum_name), None)
        assert checker.check_value(fld, text, path="x", diags=[]) == value, (enum_name, text)
        spec = field_spec(checked, fld)
        conv = convert(pa.array([text]), spec, CellChecker(checker, spec))
        assert not conv.bad.any() and enum_values(checked, fld.type)[conv.data[0]] == value, (enum_name, text)
