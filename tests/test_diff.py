"""``fupin diff`` / ``Policy.compare`` checked number for number against an independent
computation: two ``fupin batch`` runs of the same data under each setting, joined row by
row (both keep input order), their changes counted here with plain Python."""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine.api import load_policy
from fupin.engine.batch import decode_unknown
from fupin.engine.tools.generate import write_households

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policy"
MINI = ROOT / "tests/fixtures/mini"
FIX = ROOT / "tests/fixtures/batch"
OUTPUTS = ["monitoring_tier", "monitoring_object", "exit_eligible", "public_welfare_job_subsidy_monthly",
           "education_aid_once", "dibao_standard_applicable", "poor_people_in_household"]


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Generated households (some facts unknown, some rows malformed) and a copy of the
    pack whose red income line is one fen higher."""
    d = tmp_path_factory.mktemp("diff")
    write_households(1500, d / "hh.parquet", seed=11, villages_of=100, unknown_rate=0.02, malformed_rate=0.01)
    shutil.copytree(PACK, d / "edited", ignore=shutil.ignore_patterns("tests"))
    path = d / "edited/household/monitoring.yaml"
    text = path.read_text(encoding="utf-8")
    old = "  monitoring_red_income_line:\n"
    head, tail = text.split(old)
    assert tail.count("      2020-01-01: 5000\n", 0, 600) == 1
    path.write_text(head + old + tail.replace("      2020-01-01: 5000\n", "      2020-01-01: 5000.01\n", 1),
                    encoding="utf-8")
    return d


def state(row: dict, name: str) -> str:
    """An output's value or state in a batch result row, as text."""
    if name in json.loads(row["errors"]):
        return "error"
    if name in json.loads(row["unknown"]):
        return "unknown"
    value = row[name]
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def expected(rows_a: list, rows_b: list, outputs, kinds: dict, paid, averaged=()) -> dict:
    """The diff's figures computed from two batch runs, for the whole and per village."""
    def figures(pairs):
        out = {"rows": len(pairs), "changed": 0, "outputs": Counter(), "moves": {}, "money": {}, "sums": {}}
        for a, b in pairs:
            moved = [n for n in outputs if state(a, n) != state(b, n)]
            out["changed"] += bool(moved)
            out["outputs"].update(moved)
        for n in outputs:
            if kinds[n] in ("enum", "bool"):
                out["moves"][n] = Counter((state(a, n), state(b, n)) for a, b in pairs)
            if n in paid:
                before = [a[n] for a, _ in pairs if state(a, n) not in ("unknown", "error")]
                after = [b[n] for _, b in pairs if state(b, n) not in ("unknown", "error")]
                out["money"][n] = (sum(before, Decimal(0)), len(before), sum(after, Decimal(0)), len(after))
            if n in averaged:
                before = [a[n] for a, _ in pairs if state(a, n) not in ("unknown", "error")]
                after = [b[n] for _, b in pairs if state(b, n) not in ("unknown", "error")]
                out["sums"][n] = (sum(before), len(before), sum(after), len(after))
        return out

    pairs = list(zip(rows_a, rows_b))
    assert [a["id"] for a, _ in pairs] == [b["id"] for _, b in pairs]
    villages = {}
    for a, b in pairs:
        villages.setdefault(a["village_id"], []).append((a, b))
    return {"whole": figures(pairs), "villages": {k: figures(v) for k, v in villages.items()}}


def got(fig: dict, outputs) -> dict:
    """The same figures read from the diff's JSON report."""
    return {"rows": fig["rows"], "changed": fig["changed"],
            "outputs": Counter({n: c for n, c in fig["outputs"].items() if c}),
            "moves": {n: Counter({(m["from"], m["to"]): m["rows"] for m in moves}) for n, moves in fig["moves"].items()},
            "money": {n: (Decimal(m["before"]), m["decided_before"], Decimal(m["after"]), m["decided_after"])
                      for n, m in fig["money"].items()},
            "sums": {n: (int(m["before"]), m["decided_before"], int(m["after"]), m["decided_after"])
                     for n, m in fig["sums"].items()}}


SETTINGS = {
    "one fen on the red line": lambda d: (["--vs-policy", d / "edited"], [], ["--policy", d / "edited"]),
    "Anhui variant": lambda d: (["--vs-variant", "anhui-2020"], [], ["--variant", "anhui-2020"]),
}


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_diff_matches_two_batch_runs(data, setting):
    diff_args, first, second = SETTINGS[setting](data)
    only = ",".join(OUTPUTS)
    tag = setting.replace(" ", "_")
    res = cli("diff", PACK, data / "hh.parquet", "-o", data / f"{tag}.parquet", "--only", only,
              "--report", data / f"{tag}.json", "--lang", "en", *diff_args)
    batches = []
    for i, extra in enumerate((first, second)):
        policy = extra[1] if extra and extra[0] == "--policy" else PACK
        rest = [] if extra and extra[0] == "--policy" else extra
        b = cli("batch", policy, data / "hh.parquet", "-o", data / f"{tag}.{i}.parquet", "--only", only, *rest,
                "--lang", "en")
        batches.append((decode_unknown(pq.read_table(data / f"{tag}.{i}.parquet")).to_pylist(), b.stderr))
    (rows_a, err_a), (rows_b, _) = batches
    checked = load_policy(PACK).program().checked
    kinds = {n: checked.rules[n].type.kind for n in OUTPUTS}
    report_decl = checked.entities["household"].report
    paid = [n for n in OUTPUTS if n in report_decl.total]
    want = expected(rows_a, rows_b, OUTPUTS, kinds, paid, [n for n in OUTPUTS if n in report_decl.average])
    assert want["whole"]["sums"]  # an averaged output is compared too
    report = json.loads((data / f"{tag}.json").read_text(encoding="utf-8"))
    assert got(report, OUTPUTS) == {**want["whole"], "outputs": +want["whole"]["outputs"]}
    villages = report["levels"]["village_id"]
    assert set(villages) == set(want["villages"])
    for key, fig in villages.items():
        mine = want["villages"][key]
        theirs = got(fig, OUTPUTS)
        assert (theirs["rows"], theirs["changed"], theirs["outputs"]) == (mine["rows"], mine["changed"],
                                                                          +mine["outputs"]), key
        assert (theirs["money"], theirs["sums"]) == (mine["money"], mine["sums"]), key
    # the changed rows' file: exactly the rows where some output differs, before/after as batch wrote them
    changed = pq.read_table(data / f"{tag}.parquet").to_pylist()
    moved = [(a, b) for a, b in zip(rows_a, rows_b) if any(state(a, n) != state(b, n) for n in OUTPUTS)]
    assert [r["id"] for r in changed] == [a["id"] for a, _ in moved]
    for row, (a, b) in zip(changed, moved):
        for n in row["changed"].split(", "):
            assert (row[f"{n}:before"], row[f"{n}:after"]) == (_text(a, n), _text(b, n))
            assert json.loads(row["because"])[n], n  # every change names what moved in the rules
    # the accounting line and the quarantine: as batch's
    assert res.stderr.splitlines()[-1] == err_a.splitlines()[-1]
    assert (data / f"{tag}.quarantine.csv").read_text(encoding="utf-8") == \
        (data / f"{tag}.0.quarantine.csv").read_text(encoding="utf-8")


def _text(row, name):
    s = state(row, name)
    value = row[name]
    return f"{value:.2f}" if isinstance(value, Decimal) else s


def test_one_fen_moves_exactly_the_households_on_the_line(data):
    """Raising the red line by one fen turns red exactly the households whose income is
    5000.00: the generator puts mass on the line, and nothing else may move."""
    res = cli("diff", PACK, data / "hh.parquet", "-o", data / "fen.csv", "--vs-policy", data / "edited",
              "--only", "monitoring_tier", "--lang", "en")
    cli("diff", PACK, data / "hh.parquet", "-o", data / "fen.parquet", "--vs-policy", data / "edited",
        "--only", "monitoring_tier", "--traced", "100")
    facts = {r["id"]: r for r in pq.read_table(data / "hh.parquet", columns=["id", "income_per_capita"]).to_pylist()}
    rows = [line.split(",") for line in (data / "fen.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert rows and all(Decimal(str(facts[r[0].strip('"')]["income_per_capita"])) == Decimal("5000.00") for r in rows)
    # each moves up to red, or to unknown where red now hangs on an unknown fact (an
    # ordinary household below the line with no risk recorded)
    moves = Counter((r[3].strip('"'), r[4].strip('"')) for r in rows)
    assert {after for _, after in moves} <= {"red", "unknown"} and moves[("yellow", "red")] > 0
    assert "parameter monitoring_red_income_line: 5000 (from 2020-01-01) → 5000.01 (from 2020-01-01)" in res.stdout
    # the table row that decides the tier, before and after, traced for each changed row
    decided = [json.loads(r["decided"]) for r in pq.read_table(data / "fen.parquet").to_pylist()]
    assert decided and all(" → " in d["monitoring_tier"] for d in decided)  # an unknown side: "-" or "cases"
    assert Counter(d["monitoring_tier"] for d in decided)["row 5 (脱贫户黄色) → row 3 (脱贫户收入低)"] > 0


def test_two_dates_of_one_pack(tmp_path, mini):
    """The mini policy's study aid moves from 3000 to 3500 on 2018-01-01: two dates."""
    comparison = mini.compare(FIX / "households.jsonl", tmp_path / "c.csv", on="2017-06-30", vs_on="2018-06-30",
                              only=["aid_total", "tier"])
    sides = []
    for day in ("2017-06-30", "2018-06-30"):
        cli("batch", MINI, FIX / "households.jsonl", "-o", tmp_path / f"{day}.parquet", "--on", day,
            "--only", "aid_total,tier")
        sides.append(decode_unknown(pq.read_table(tmp_path / f"{day}.parquet")).to_pylist())
    pairs = list(zip(*sides))
    changed = sum(state(a, "aid_total") != state(b, "aid_total") for a, b in pairs)
    assert comparison.diff.whole.outputs["aid_total"] == changed > 0
    assert comparison.diff.whole.outputs["tier"] == 0
    assert comparison.report.rows_out == len(pairs)
    causes = [c.text() for c in comparison.job.causes["aid_total"]]
    assert causes == ["parameter aid_amount: 3000 (from 2016-01-01) → 3500 (from 2018-01-01)"]
    assert comparison.to_dict()["outputs"]["aid_total"] == changed


def _copy_mini(tmp_path, edit=None):
    shutil.copytree(MINI, tmp_path / "b", ignore=shutil.ignore_patterns("tests"))
    if edit:
        path = tmp_path / "b" / edit[0]
        text = path.read_text(encoding="utf-8")
        assert text.count(edit[1]) == 1
        path.write_text(text.replace(edit[1], edit[2]), encoding="utf-8")
    return tmp_path / "b"


@pytest.mark.parametrize("edit, code, text", [
    (("declarations.yaml", "  member:\n", "  pond:\n    fields:\n      id: {type: string, required: true}\n  member:\n"),
     "E850", "<arguments>:0:0: error[E850]: the two policies declare different entities: entities declared on one "
             "side only: `pond` (b/base@2020-06-30)"),
    (("declarations.yaml", "      wubao: {type: bool}\n", "      wubao: {type: bool}\n      pond: {type: bool}\n"),
     "E851", "error[E851]: the fact `household.pond` is declared differently by the two policies: — "
             "(mini/base@2020-06-30), against bool (b/base@2020-06-30)"),
    (("declarations.yaml", "      population: {type: integer, min: 0}\n", "      population: {type: decimal, min: 0}\n"),
     "E851", "error[E851]: the fact `village.population` is declared differently by the two policies: integer "
             "(mini/base@2020-06-30), against decimal (b/base@2020-06-30)"),
    (("declarations.yaml", "      poor: {zh: 未脱贫, en: poor}\n      exited: {zh: 已脱贫, en: exited}\n",
      "      exited: {zh: 已脱贫, en: exited}\n      poor: {zh: 未脱贫, en: poor}\n"),
     "E851", "error[E851]: the fact `household.status` is declared differently by the two policies: "
             "status{poor, exited, ordinary} (mini/base@2020-06-30), against status{exited, poor, ordinary} "
             "(b/base@2020-06-30)"),
])
def test_incompatible_packs_are_refused_before_evaluation(tmp_path, edit, code, text):
    other = _copy_mini(tmp_path, edit)
    res = CliRunner().invoke(main, ["diff", str(MINI), str(FIX / "households.jsonl"), "-o", str(tmp_path / "c.csv"),
                                    "--vs-policy", str(other), "--on", "2020-06-30", "--lang", "en"])
    assert res.exit_code == 1 and res.stdout == ""
    assert text in res.stderr
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "c.quarantine.csv").exists()
    if code == "E851":
        assert "b/declarations.yaml:" in res.stderr  # located at the second pack's declaration


def test_same_settings_and_one_sided_outputs(tmp_path):
    res = CliRunner().invoke(main, ["diff", str(MINI), str(FIX / "households.jsonl"), "-o", str(tmp_path / "c.csv"),
                                    "--lang", "en"])
    assert res.exit_code == 1 and "error[E852]: the two settings are the same" in res.stderr
    other = _copy_mini(tmp_path, ("rules.yaml", "  any_disabled:\n",
                                  "  new_rule: {type: bool, source: \"001:78\", expr: wubao}\n  any_disabled:\n"))
    res = cli("diff", MINI, FIX / "households.jsonl", "-o", tmp_path / "c.csv", "--vs-policy", other, "--lang", "en")
    assert "warning[W930]: output `new_rule` exists only in b/base@2020-06-30; not compared" in res.stderr
    assert "new_rule" not in (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[0]


def test_other_bounds_warn(tmp_path):
    other = _copy_mini(tmp_path, ("declarations.yaml", "      age: {type: integer, min: 0, max: 150,",
                                  "      age: {type: integer, min: 0, max: 120,"))
    res = cli("diff", MINI, FIX / "households.jsonl", "-o", tmp_path / "c.csv", "--vs-policy", other, "--lang", "en")
    assert ("warning[W931]: the fact `member.age` is constrained differently by the two policies ([0, 150] "
            "(mini/base@2020-06-30), against [0, 120] (b/base@2020-06-30)): validated as the first setting declares it"
            ) in res.stderr


def test_html_report_is_one_self_contained_page(data):
    cli("diff", PACK, data / "hh.parquet", "-o", data / "h.parquet", "--vs-variant", "anhui-2020",
        "--only", ",".join(OUTPUTS), "--format", "html")
    text = (data / "h.report.html").read_text(encoding="utf-8")
    assert "<script" not in text and "src=" not in text and "<link" not in text
    assert "监测等级" in text and 'charset="utf-8"' in text  # CJK labels as text, declared UTF-8
    HTMLParser().feed(text)
    svgs = text.split("<svg")[1:]
    assert len(svgs) >= 3  # heatmaps and bars
    for svg in svgs:
        ET.fromstring("<svg" + svg[:svg.index("</svg>") + 6])  # well-formed SVG
    assert "H0000" in text  # the changed households' table


@pytest.mark.parametrize("lang, words, absent", [
    ("zh", ['<html lang="zh-CN">', "户，", "户有变化", "<th>之前</th><th>之后</th><th>差额</th>", ">元<", "行：之前的值",
            "变化最多的行政村", ">红色<", ">非监测对象<", ">是<"],
     [">before<", ">difference<", "village_id", ">red<", ">true<"]),
    ("en", ['<html lang="en">', "households, ", " changed</p>", "<th>before</th><th>after</th><th>difference</th>",
            "Most changed by administrative village", ">red<", ">not a monitoring object<", ">yes<"],
     ["之前", "行政村", "village_id", ">true<"]),
])
def test_html_report_reads_in_its_language(data, lang, words, absent):
    """Headings, table heads, group names and the transitions' values in the report's
    language: the pack's labels (行政村, 红色), never the column or the stored value."""
    out = data / f"h-{lang}.parquet"
    cli("diff", PACK, data / "hh.parquet", "-o", out, "--vs-variant", "anhui-2020",
        "--only", ",".join(OUTPUTS), "--format", "html", "--lang", lang)
    text = (data / f"h-{lang}.report.html").read_text(encoding="utf-8")
    for word in words:
        assert word in text, word
    for word in absent:
        assert word not in text, word


def test_diff_on_dask_is_the_local_diff(data):
    pytest.importorskip("distributed")
    args = ["--vs-policy", data / "edited", "--only", "monitoring_tier,exit_eligible", "--lang", "en"]
    cli("diff", PACK, data / "hh.parquet", "-o", data / "local.csv", "--report", data / "local.json", *args)
    cli("diff", PACK, data / "hh.parquet", "-o", data / "dask.csv", "--report", data / "dask.json", "--engine", "dask",
        *args)
    for name in ("{}.csv", "{}.json", "{}.quarantine.csv"):
        assert (data / name.format("dask")).read_bytes() == (data / name.format("local")).read_bytes(), name


def test_what_moved_reads_in_the_language_asked(tmp_path, mini):
    """The causes on screen and in the HTML report are in the report's language; the
    changed-rows file's ``because`` column stays in English (data, the same on every run)."""
    comparison = mini.compare(FIX / "households.jsonl", tmp_path / "c.csv", on="2017-06-30", vs_on="2018-06-30",
                              only=["aid_total"])
    (cause,) = comparison.job.causes["aid_total"]
    assert cause.text("zh") == "参数 aid_amount：3000（自 2016-01-01 起） → 3500（自 2018-01-01 起）"
    assert cause.text("en") == "parameter aid_amount: 3000 (from 2016-01-01) → 3500 (from 2018-01-01)"


def test_diff_on_a_kept_cluster_loads_an_edited_pack_again(tmp_path):
    """Workers keep a diff's compiled job between runs under the packs' revisions: after
    an edit of the second pack, the same cluster gives the local run's report again, not
    the kept job's; ``--no-cache`` reaches the workers (their cache folder stays empty)."""
    distributed = pytest.importorskip("distributed")
    first, second = tmp_path / "a", tmp_path / "b"
    for pack in (first, second):
        shutil.copytree(ROOT / "benchmarks" / "small_policy", pack)
    write_households(300, tmp_path / "hh.parquet", seed=3)
    stored = tmp_path / "worker-cache"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"FUPIN_CACHE_DIR": str(stored)}) as cluster:
        reports = []
        for n in range(2):
            if n:
                rules = second / "household.yaml"
                text = rules.read_text(encoding="utf-8")
                assert "2016-01-01: 4000\n" in text
                rules.write_text(text.replace("2016-01-01: 4000\n", "2016-01-01: 400000\n"), encoding="utf-8")
            args = [first, tmp_path / "hh.parquet", "--vs-policy", second, "--lang", "en", "--no-cache"]
            cli("diff", *args, "-o", tmp_path / f"local{n}.csv", "--report", tmp_path / f"local{n}.json")
            cli("diff", *args, "-o", tmp_path / f"dask{n}.csv", "--report", tmp_path / f"dask{n}.json",
                "--engine", "dask", "--scheduler", cluster.scheduler_address)
            local = (tmp_path / f"local{n}.json").read_bytes()
            assert (tmp_path / f"dask{n}.json").read_bytes() == local, n
            reports.append(json.loads(local))
        assert reports[0] != reports[1]  # the edit changed some household's results
        assert not stored.exists() or not list(stored.iterdir())
