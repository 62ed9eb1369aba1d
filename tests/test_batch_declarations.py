"""What a batch run joins on and summarises is declared by the policy (``parent_key``,
``report``, a list field's ``max``), checked with located errors, and nothing of one
pack is named by the engine's batch and facts modules."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from fupin.dsl.checker import check_all
from fupin.dsl.loader import load_source
from fupin.engine import batch as eb

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests/fixtures/batch"
MINI = ROOT / "tests/fixtures/mini"

REPORT = """\
entity: household
rules:
  rep_tier: {type: tier, expr: 'if risk_event then red else none'}
  rep_aid: {type: money, expr: '100'}
"""


def _errors(tmp_path, old: str, new: str, rules: str = REPORT) -> list:
    """The errors of the mini policy with one edit of its declarations."""
    shutil.copytree(MINI, tmp_path / "p", ignore=shutil.ignore_patterns("tests", "variants"))
    decl = tmp_path / "p/declarations.yaml"
    text = decl.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    decl.write_text(text.replace(old, new), encoding="utf-8")
    (tmp_path / "p/report.yaml").write_text(rules, encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path / "p"))
    return [d for d in diags if d.severity == "error"]


HOUSEHOLD = "  household:\n    parent: village\n"


@pytest.mark.parametrize("declared, code, message, hint", [
    ("parent_key: village_id\n    report: {count: [rep_teir]}", "E307",
     "the report of `household`: `count` names output `rep_teir`, which `household` does not have",
     "did you mean `rep_tier`?"),
    ("parent_key: village_id\n    report: {count: [rep_aid]}", "E406", "`rep_aid` in the report is money; expected enum, bool, "
     "integer, string", None),
    ("parent_key: village_id\n    report: {incidence: {labels: {zh: 率}, field: stauts, values: [poor]}}", "E307",
     "the report of `household`: `incidence.field` names field `stauts`, which `household` does not have",
     "did you mean `status`?"),
    ("parent_key: village_id\n    report: {incidence: {labels: {zh: 率}, field: status, values: [pore]}}", "E304",
     "`pore` is not a value of enum `status`", "values: poor, exited, ordinary"),
    ("parent_key: village_id\n    report: {incidence: {labels: {zh: 率}, field: wubao, values: ['true']}}", "E406",
     "`wubao` in the report is bool; expected enum", None),
    ("parent_key: village_id\n    report: {incidence: {labels: {zh: 率}, field: status, values: [poor], people: membres}}",
     "E307", "the report of `household`: `incidence.people` names list field `membres`, which `household` does not have",
     "did you mean `members`?"),
    ("report: {incidence: {labels: {zh: 率}, field: status, values: [poor]}}", "E308",
     "entity `household`, parent_key: an incidence is grouped by the parent: declare parent and parent_key "
     "(the column of the parent's key)", None),
    ("parent_key: status", "E308",
     "entity `household`, parent_key: `status` is already a field; the column of the parent's key needs a name of its own",
     None),
])
def test_report_declarations_are_checked(tmp_path, declared, code, message, hint):
    errors = _errors(tmp_path, HOUSEHOLD, HOUSEHOLD + "    " + declared + "\n")
    assert [(d.code, d.message("en"), d.hint("en")) for d in errors] == [(code, message, hint)]
    first = (MINI / "declarations.yaml").read_text(encoding="utf-8").splitlines().index("  household:") + 1
    assert errors[0].span.file.endswith("declarations.yaml") and errors[0].span.line in (first + 2, first + 3)


def test_parent_key_needs_a_parent_and_list_max_a_count(tmp_path):
    errors = _errors(tmp_path, "  village:\n", "  village:\n    parent_key: township_id\n")
    assert [(d.code, d.span.line) for d in errors] == [("E308", 22)]
    errors = _errors(tmp_path / "b", "of: household, max: 100000}", "of: household, max: 0}")
    assert [(d.code, d.message("en")) for d in errors] == [
        ("E405", "parameter `village.households.max`: value `0` is not integer ≥ 1")]


def test_the_pack_declares_its_report(pack):
    ent = pack.program().checked.entities["household"]
    assert ent.parent_key == "village_id"
    assert ent.report.count == ("monitoring_tier", "monitoring_measure", "exit_eligible")
    assert (ent.report.incidence.field, ent.report.incidence.values, ent.report.incidence.people) == (
        "status", ("poor",), "members")
    assert pack.program().checked.entities["village"].fields["households"].max == 100_000


def test_a_policy_without_a_report_gets_totals_only(mini, tmp_path):
    job = eb.Job(mini, "household", lang="en", summary=True)
    report = eb.run_batch(job, eb.Source(str(FIX / "households.jsonl"), job.layout), str(tmp_path / "o.csv"), "csv",
                          str(tmp_path / "q.csv"))
    assert report.summary.counts == {} and report.summary.groups == {}
    text = eb.render_summary(report.summary, mini.program().checked, "en").splitlines()
    assert text[0] == f"Summary ({report.rows_out} rows evaluated)"
    assert all(line.startswith(("  Totals", "    ")) for line in text[1:])


def test_joins_are_named_by_list_field(pack, tmp_path):
    job = eb.Job(pack, "household")
    source = eb.Source(str(FIX / "households.csv"), job.layout, {"members": str(FIX / "members.csv")})
    assert [(j.name, j.key) for j in source.joins()] == [("members", "household_id")]
    village = eb.Job(pack, "village")
    source = eb.Source(str(FIX / "villages.csv"), village.layout, {"households": str(FIX / "village_households.csv"),
                                                                  "members": str(FIX / "village_members.csv")})
    [households] = source.joins()
    assert (households.key, [(j.name, j.key) for j in households.children]) == ("village_id", [("members", "household_id")])
    with pytest.raises(Exception) as exc:
        eb.Source(str(FIX / "households.csv"), job.layout, {"membres": str(FIX / "members.csv")})
    assert "--join `membres`: not a list field of household or of a joined child (lists: members)" in \
        exc.value.render("en")


def test_cli_join_option(cli, tmp_path):
    by_join = cli("batch", str(ROOT / "policy"), FIX / "households.csv", "--join", f"members={FIX / 'members.csv'}",
                  "-o", tmp_path / "a.csv", "--summary", "--lang", "en")
    by_name = cli("batch", str(ROOT / "policy"), FIX / "households.csv", "--members", FIX / "members.csv",
                  "-o", tmp_path / "b.csv", "--summary", "--lang", "en")
    assert by_join.exit_code == 0, by_join.output
    assert by_join.stdout == by_name.stdout
    assert "    VA1: 6/21 = 28.57% (10 households)" in by_join.stdout.splitlines()
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == (tmp_path / "b.csv").read_text(encoding="utf-8")
    bad = cli("batch", str(ROOT / "policy"), FIX / "households.csv", "--join", "members", "-o", tmp_path / "c.csv")
    assert bad.exit_code == 1 and "--join 应写成 LIST=FILE" in bad.stderr


@pytest.fixture()
def cli(monkeypatch, pack, mini):
    from click.testing import CliRunner

    import fupin.engine.api as api
    from fupin.cli.main import main

    loaded = {str(ROOT / "policy"): pack, str(MINI): mini}
    monkeypatch.setattr(eb, "load", lambda path, cache=True: loaded[str(path)])
    monkeypatch.setattr(api, "load_policy", lambda path: loaded[str(path)])
    return lambda *args: CliRunner().invoke(main, [str(a) for a in args])
