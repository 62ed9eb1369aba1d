"""``fupin batch``: every row accounted for, reasons for the rejected ones, and the same
results as ``fupin eval`` row by row, whatever the input format, chunking or engine.

The inputs are data in tests/fixtures/batch/: households (with malformed rows) as JSON
lines, as CSV with a members file in household order and one shuffled by household
(with a member row of no household), and villages as JSON lines and as three CSV files.
The expected quarantine files beside them are golden files (English reasons).
The reference results come from ``fupin eval --format json`` (or the same
``Result.to_json`` in-process) on the records FactsChecker accepts.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine import batch as eb
from fupin.engine.batch import decode_unknown
from fupin.engine.batch.projection import project
from fupin.engine.batch.pipeline import Stopped
from fupin.engine.reports.jsonout import decimal_text, dumps

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests/fixtures/batch"
POLICY = str(ROOT / "policy")
EXAMPLES = ROOT / "examples" / "households.yaml"
MINI = str(ROOT / "tests/fixtures/mini")


@pytest.fixture()
def cli(monkeypatch, pack, mini):
    """Run the CLI in-process with the session's policies (loaded once, not per command)."""
    import fupin.engine.api as api

    loaded = {POLICY: pack, MINI: mini}
    monkeypatch.setattr(eb, "load", lambda path, cache=True: loaded[str(path)])
    monkeypatch.setattr(api, "load_policy", lambda path: loaded[str(path)])
    return lambda *args: CliRunner().invoke(main, [str(a) for a in args])


# --- helpers


def run(policy, path, out, **kw):
    """A batch run through the API: (report, result rows as text, quarantine rows)."""
    job = eb.Job(policy, kw.pop("entity", "household"), None, kw.pop("on", None), kw.pop("only", None),
                 kw.pop("lang", "en"), kw.pop("summary", False))
    joined = {name: kw.pop(name) for name in ("members", "households") if kw.get(name)}
    source = eb.Source(str(path), job.layout, joined, kw.pop("chunk_size", 1000))
    qpath = eb.quarantine_path(out, kw.pop("quarantine", None))
    report = eb.run_batch(job, source, str(out), eb.output_format(out), qpath)
    return report, read_rows(out), Path(qpath).read_text(encoding="utf-8")


def read_rows(path) -> list:
    """Result rows with every value as the text the CSV output (and eval's JSON) would show."""
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    # a compact unknown column (the Parquet default) read as the JSON text it encodes
    return [{k: as_text(v) for k, v in row.items()} for row in decode_unknown(pq.read_table(path)).to_pylist()]


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def assert_matches_eval(rows: list, evaluations: list) -> None:
    """Every evaluated row equals eval's JSON: values, unknown facts, errors."""
    assert [r["id"] for r in rows] == [e["id"] for e in evaluations]
    for row, ev in zip(rows, evaluations):
        assert {k: row[k] for k in ev["results"]} == {k: as_text(v) for k, v in ev["results"].items()}, ev["id"]
        assert json.loads(row["unknown"]) == ev["unknown"], ev["id"]
        want = {k: f"{e['code']} {e['message']}" for k, e in ev.get("errors", {}).items()}
        assert json.loads(row["errors"]) == want, ev["id"]


def jsonl_records(path) -> list:
    """The input rows of a JSON-lines file (None for a line that is not JSON)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line, parse_float=Decimal))
        except json.JSONDecodeError:
            out.append(None)
    return out


def valid(policy, records, entity="household") -> list:
    """The records FactsChecker accepts (the rows batch must evaluate)."""
    checker = policy.facts_checker()
    return [r for r in records if r is not None and checker.validate(r, entity, allow_unknown=True)[0] is not None]


def eval_json(policy, records, entity="household") -> list:
    """What ``fupin eval --format json`` prints for these records (Result.to_json)."""
    return json.loads(dumps([policy.evaluate(r, entity=entity, allow_unknown_fields=True).to_json() for r in records]),
                      parse_float=Decimal)


def csv_records(households, members=None) -> list:
    """Households of a CSV file with their members joined independently (csv module)."""
    kids: dict = {}
    if members:
        with open(members, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                hid = row.pop("household_id")
                kids.setdefault(hid, []).append({k: (v if v != "" else None) for k, v in row.items()})
    out = []
    with open(households, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if None in row:  # a malformed record (too many fields)
                continue
            rec = {k: (v if v != "" else None) for k, v in row.items()}
            if rec.get("id") in kids:
                rec["members"] = kids.pop(rec["id"])
            out.append(rec)
    return out


# --- JSON lines


def test_jsonl_rows_accounted_quarantine_and_eval(pack, tmp_path, cli):
    records = jsonl_records(FIX / "households.jsonl")
    report, rows, quarantine = run(pack, FIX / "households.jsonl", tmp_path / "out.csv")
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (46, 29, 17)
    assert quarantine == (FIX / "households.quarantine.csv").read_text(encoding="utf-8")
    lines = (FIX / "households.jsonl").read_text(encoding="utf-8").splitlines()
    good = [line for line, r in zip(lines, records) if r is not None and valid(pack, [r])]
    (tmp_path / "valid.json").write_text("[" + ",\n".join(good) + "]", encoding="utf-8")
    result = cli("eval", POLICY, tmp_path / "valid.json", "--format", "json", "--allow-unknown-fields")
    assert_matches_eval(rows, json.loads(result.stdout, parse_float=Decimal))
    assert [w.args["path"] for w in report.warnings] == ["nickname", "members[].shoe_size"]


def test_cli_prints_counts_warnings_and_summary(cli, tmp_path):
    out = tmp_path / "out.parquet"
    result = cli("batch", POLICY, FIX / "households.jsonl", "-o", out, "--summary",
                 "--only", "monitoring_tier,monitoring_measure,exit_eligible,education_aid_once")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning[W906]: 农户 `*`：字段 `nickname` 未在实体中声明，已忽略",
        "warning[W906]: 农户 `*`：字段 `members[].shoe_size` 未在实体中声明，已忽略",
        "评估日期 2020-06-30（政策声明的默认日期）",
        "输入 46 行 = 输出 29 行 + 隔离 17 行",
    ]
    assert "摘要（已求值 29 户）" in result.stdout
    assert (tmp_path / "out.quarantine.csv").read_text(encoding="utf-8").count("\n") == 1 + 19
    # the household's declared parent_key (village_id) is carried to the output (issue 11)
    assert pq.read_table(out).column_names == ["id", "village_id", "monitoring_tier", "monitoring_measure",
                                               "exit_eligible", "education_aid_once", "unknown", "possible", "errors"]
    assert pq.read_table(out).schema.field("education_aid_once").type == pa.decimal128(18, 2)


def test_summary_figures(pack, tmp_path):
    records = jsonl_records(FIX / "households.jsonl")
    report, rows, _ = run(pack, FIX / "households.jsonl", tmp_path / "out.parquet", summary=True)
    expected = eval_json(pack, valid(pack, records))
    for name in ("monitoring_tier", "monitoring_measure", "exit_eligible"):
        counted = Counter(as_text(e["results"][name]) for e in expected if name not in e["unknown"])
        got = {k: v for k, v in report.summary.counts[name].items() if v and k not in ("unknown", "error")}
        assert got == dict(counted), name
        assert report.summary.counts[name]["unknown"] == sum(name in e["unknown"] for e in expected)
    for name, (fen, n) in report.summary.totals.items():
        decided = [e["results"][name] for e in expected if e["results"][name] is not None]
        assert (Decimal(fen) / 100, n) == (sum(decided, Decimal(0)), len(decided)), name
    people = Counter()
    for r in valid(pack, records):
        size = len(r.get("members") or [])
        people[r["village_id"]] += size
        people[(r["village_id"], "poor")] += size if r.get("status") == "poor" else 0
    assert {v: f[:2] for v, f in report.summary.groups.items()} == {
        v: [people[(v, "poor")], people[v]] for v in ("VA0", "VA1", "VA2")}
    text = eb.render_summary(report.summary, pack.program().checked, "en")
    assert "    VA1: 6/21 = 28.57% (10 households)" in text.splitlines()


# --- CSV with members


def test_csv_members_in_order_and_shuffled(pack, tmp_path):
    ordered = run(pack, FIX / "households.csv", tmp_path / "a.csv", members=FIX / "members.csv")
    shuffled = run(pack, FIX / "households.csv", tmp_path / "b.csv", members=FIX / "members_shuffled.csv")
    assert (ordered[0].restarted, shuffled[0].restarted) == (False, True)
    assert (ordered[0].orphans, shuffled[0].orphans) == (0, 1)
    assert ordered[1:] == shuffled[1:]
    report, rows, quarantine = ordered
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (43, 29, 14)
    assert quarantine == (FIX / "households_csv.quarantine.csv").read_text(encoding="utf-8")
    records = valid(pack, csv_records(FIX / "households.csv", FIX / "members.csv"))
    assert_matches_eval(rows, eval_json(pack, records))


def test_csv_chunks_of_seven(pack, tmp_path):
    whole = run(pack, FIX / "households.csv", tmp_path / "a.csv", members=FIX / "members.csv", summary=True)
    small = run(pack, FIX / "households.csv", tmp_path / "b.csv", members=FIX / "members.csv", summary=True,
                chunk_size=7)
    assert whole[1:] == small[1:]
    assert whole[0].summary == small[0].summary


def test_jsonl_chunks_of_seven(pack, tmp_path):
    whole = run(pack, FIX / "households.jsonl", tmp_path / "a.parquet", summary=True)
    small = run(pack, FIX / "households.jsonl", tmp_path / "b.parquet", summary=True, chunk_size=7)
    assert whole[1:] == small[1:]
    assert whole[0].summary == small[0].summary
    assert len(small[0].summary.groups) == 3


# --- Parquet


def typed_table(policy, records) -> pa.Table:
    """Households as typed Parquet columns: decimals for money and ratios, dates, list<struct> members."""
    kinds = {"bool": pa.bool_(), "integer": pa.int64(), "money": pa.decimal128(18, 2), "ratio": pa.decimal128(18, 6),
             "decimal": pa.decimal128(18, 6), "date": pa.date32(), "string": pa.string(), "enum": pa.string()}
    checked = policy.program().checked

    def fields(entity, names):
        ent = checked.entities[entity]
        return [pa.field(n, kinds[ent.fields[n].type.kind]) for n in names]

    names = sorted({k for r in records for k in r if k not in ("members", "village_id")})
    member_names = sorted({k for r in records for m in r.get("members") or [] for k in m})
    member = pa.struct(fields("member", member_names))
    schema = pa.schema(fields("household", names) + [pa.field("members", pa.list_(member))])
    return pa.Table.from_pylist(records, schema=schema)


def test_parquet_matches_eval_and_quarantines(pack, tmp_path):
    checker = pack.facts_checker()
    typed = [checker.validate(r, "household", allow_unknown=True)[0]
             for r in valid(pack, jsonl_records(FIX / "households.jsonl"))]
    bad = [dict(typed[0], id="P1", income_per_capita=Decimal(-1)), dict(typed[1], id="P2", status="rich"),
           dict(typed[2], id=None), dict(typed[3], id="P4", members=[{"age": 30}, {"age": -5}])]
    table = typed_table(pack, typed[:10] + bad + typed[10:])
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=8)
    report, rows, quarantine = run(pack, tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_size=5)
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (33, 29, 4)
    assert quarantine.splitlines()[1:] == [
        "11,P1,income_per_capita,E803,\"household `P1`: field `income_per_capita` value `-1.00` is outside [0, ∞]\"",
        "12,P2,status,E802,\"household `P2`: field `status` should be one of poor, exited, edge, monitored, ordinary, got `rich`\"",
        "13,,id,E801,household `None`: required field `id` is missing",
        "14,P4,members[1].age,E803,\"household member `P4`: field `members[1].age` value `-5` is outside [0, ∞]\"",
    ]
    assert_matches_eval(rows, eval_json(pack, typed))


def test_parquet_reads_declared_columns_and_warns_of_the_others(pack, tmp_path):
    """Undeclared columns are not decoded (projection.py) but still reported (W906), and
    the results are those of the same rows without them."""
    checker = pack.facts_checker()
    typed = [checker.validate(r, "household", allow_unknown=True)[0]
             for r in valid(pack, jsonl_records(FIX / "households.jsonl"))]
    table = typed_table(pack, typed)
    members = table.column("members").combine_chunks()
    kids = members.flatten()
    wider = pa.StructArray.from_arrays(kids.flatten() + [pa.array(range(len(kids)), pa.int64())],
                                       [f.name for f in kids.type] + ["shoe_size"])
    table = table.set_column(table.schema.get_field_index("members"), "members",
                             pa.ListArray.from_arrays(members.offsets, wider, mask=members.is_null()))
    table = table.add_column(0, "nickname", pa.array(["x"] * len(typed)))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=8)
    chosen = project(pq.ParquetFile(tmp_path / "in.parquet").schema, eb.Job(pack).layout, ("village_id",))
    assert "nickname" not in chosen.columns and "members.list.element.shoe_size" not in chosen.columns
    assert "members.list.element.age" in chosen.columns
    report, rows, _ = run(pack, tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_size=5)
    assert [w.args["path"] for w in report.warnings] == ["nickname", "members[].shoe_size"]
    assert_matches_eval(rows, eval_json(pack, typed))


@pytest.mark.parametrize("column, read_whole", [
    (pa.field("members", pa.string()), True),  # not a list: the validator's E802
    (pa.field("members", pa.list_(pa.int64())), True),  # a list, not of objects
    (pa.field("members", pa.list_(pa.struct([("shoe_size", pa.int64())]))), True),  # no declared field
    (pa.field("members", pa.list_(pa.struct([("age", pa.int64()), ("shoe_size", pa.int64())]))), False),
])
def test_parquet_projection_reads_odd_lists_whole(pack, tmp_path, column, read_whole):
    pq.write_table(pa.table({"id": pa.array(["a"]), "members": pa.array([None], column.type)}), tmp_path / "in.parquet")
    chosen = project(pq.ParquetFile(tmp_path / "in.parquet").schema, eb.Job(pack).layout, ())
    if read_whole:
        assert chosen.columns is None and chosen.skipped == []
    else:
        assert chosen.columns == ["id", "members.list.element.age"] and chosen.skipped == ["members[].shoe_size"]


def test_parquet_reading_holds_nothing_per_row_group(pack, tmp_path):
    """Reading a Parquet input holds about one chunk, not the file: pyarrow's ParquetFile
    pre-buffers by default, and its read cache keeps the compressed column chunks of the
    row groups it has read until the file is closed (on the 10M benchmark input, a
    steady climb of ~44 bytes per household, the file's size)."""
    import random
    from fupin.engine.batch.readers import parquet_chunks

    rng = random.Random(0)
    n, groups = 4000, 60
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(n * groups)]  # hardly compressible
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ids}), path, row_group_size=n)
    layout = eb.Job(pack).layout
    before = pa.total_allocated_bytes()
    held = 0
    for chunk in parquet_chunks(path, layout, n):
        held = max(held, pa.total_allocated_bytes() - before)
    assert path.stat().st_size > 7_000_000
    assert held < 1_500_000, f"{held:,} bytes held while reading 4,000 rows at a time"


# --- villages


def test_villages_jsonl_and_csv(pack, tmp_path):
    from_jsonl = run(pack, FIX / "villages.jsonl", tmp_path / "a.parquet", entity="village")
    from_csv = run(pack, FIX / "villages.csv", tmp_path / "b.parquet", entity="village",
                   households=FIX / "village_households.csv", members=FIX / "village_members.csv")
    assert from_jsonl[1:] == from_csv[1:]
    report, rows, quarantine = from_jsonl
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (7, 5, 2)
    assert quarantine.splitlines()[1:] == [
        "3,VB1,households[1].status,E802,\"household `VB1`: field `households[1].status` should be one of poor, "
        "exited, edge, monitored, ordinary, got `rich`\"",
        "7,VB2,population,E803,\"administrative village `VB2`: field `population` value `-5` is outside [0, ∞]\"",
        "7,VB2,households[0].members[1].age,E803,\"household member `VB2`: field `households[0].members[1].age` "
        "value `-2` is outside [0, ∞]\"",
    ]
    records = valid(pack, jsonl_records(FIX / "villages.jsonl"), "village")
    assert_matches_eval(rows, eval_json(pack, records, "village"))


# --- explain, arguments


def test_explain_one_row(pack, cli):
    result = cli("batch", POLICY, FIX / "households.csv", "--members", FIX / "members.csv", "--explain", "HH01",
                 "--only", "monitoring_tier,exit_eligible", "--lang", "en")
    assert result.exit_code == 0, result.output
    record = [r for r in csv_records(FIX / "households.csv", FIX / "members.csv") if r["id"] == "HH01"][0]
    expected = "\n\n".join(pack.explain(record, name, lang="en", allow_unknown_fields=True)
                           for name in ("monitoring_tier", "exit_eligible"))
    assert result.stdout == expected + "\n"
    missing = cli("batch", POLICY, FIX / "households.jsonl", "--explain", "NOPE")
    assert missing.exit_code == 1 and "error[E804]: 输入无效：没有 id 为 `NOPE` 的实体（文件中共有 43 个）\n\n" \
        in missing.stderr


@pytest.mark.parametrize("command, path, count, ident, hint", [
    ("batch", FIX / "households.jsonl", 43, "HH0l", "`HH01`, `HH03`, `HH08`"),  # the letter l counts as the digit 1
    ("explain", EXAMPLES, 24, "HH0l", "`HH01`, `HH02`, `HH03`"),
    ("explain", EXAMPLES, 24, "HH1O", "`HH10`, `HH11`, `HH12`"),  # difflib ranked HH21 first
    ("batch", FIX / "households.jsonl", 43, "ZZZZZZ", None),
    ("explain", EXAMPLES, 24, "ZZZZZZ", None),
])
def test_an_id_not_in_the_file_is_located_with_the_closest(cli, command, path, count, ident, hint):
    args = ["--explain", ident] if command == "batch" else ["--id", ident, "--output", "monitoring_tier"]
    result = cli(command, POLICY, path, *args, "--lang", "en")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:0:0: error[E804]: invalid input: no entity with id `{ident}` ({count} in "
                                    f"the file)\n"), result.stderr
    assert (f"  = hint: did you mean {hint}?\n" in result.stderr) if hint else "hint" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["-o", "out.txt"], "<arguments>:0:0: error[E804]: invalid input: the output `out.txt` must be .parquet, .csv or .xlsx"),
    (["-o", "out.csv", "--only", "monitoring_tierr"], "error[E811]: no output named `monitoring_tierr`"),
    (["-o", "out.csv", "--members", FIX / "members.csv"], "--join goes with CSV or Excel input"),
    (["-o", "out.csv", "--variant", "guangxi"], "error[E812]: no variant named `guangxi`"),
    (["-o", "out.csv", "--members", "#成员"], "`#成员` names a sheet of the input workbook, and the input is not .xlsx"),
])
def test_bad_arguments(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = cli("batch", POLICY, FIX / "households.jsonl", *args, "--lang", "en")
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("mode", ["merge", "index"])
@pytest.mark.parametrize("members_header, hint", [
    ("id,age", None),
    ("household_ld,age", "hint: the file has a `household_ld` column: if it holds the parent's key, rename it "
                         "`household_id`"),
])
def test_a_children_file_without_its_key_column(pack, tmp_path, mode, members_header, hint):
    """The children file had no column naming each row's household: the run stopped with
    E833 "KeyError: 'Field \"household_id\" does not exist in schema'"."""
    (tmp_path / "h.csv").write_text("id,registered,status\nH1,true,poor\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text(f"{members_header}\nH1,30\n", encoding="utf-8")
    job = eb.Job(pack, "household", None, None, None, "en", False)
    source = eb.Source(str(tmp_path / "h.csv"), job.layout, {"members": str(tmp_path / "m.csv")}, 1000)
    source.join_mode = mode
    with pytest.raises(Stopped) as err:
        eb.run_batch(job, source, str(tmp_path / "out.csv"), "csv", str(tmp_path / "q.csv"))
    text = err.value.report.stopped.render("en")
    assert text.startswith(f"{tmp_path / 'm.csv'}:1:1: error[E804]: invalid input: no `household_id` column: each "
                           f"row of the members file names its parent by it\n  {members_header}\n  ^"), text
    assert (hint in text) if hint else "hint" not in text
    assert not (tmp_path / "out.csv").exists()


def test_unreadable_input(cli, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file")
    result = cli("batch", POLICY, broken, "-o", tmp_path / "out.csv", "--lang", "en")
    assert result.exit_code == 1
    assert "broken.parquet:0:0: error[E804]: invalid input: cannot be read" in result.stderr


# --- Dask


def test_dask_local_cluster_same_as_local(tmp_path, mini):
    distributed = pytest.importorskip("distributed")
    import dask
    import dask.dataframe as dd

    policy = mini
    typed = [r for r in jsonl_records(FIX / "households.jsonl") if isinstance(r, dict)]
    rows = [{"id": None if r.get("id") is None else str(r["id"]), "status": r.get("status"),
             "income_per_capita": None if r.get("income_per_capita") is None else str(r["income_per_capita"]),
             "members": [{"age": m.get("age"), "labor": m.get("labor")} for m in r["members"]]
             if isinstance(r.get("members"), list) and all(isinstance(m, dict) for m in r["members"]) else None}
            for r in typed]
    for m in (m for r in rows for m in r["members"] or []):
        m["age"] = None if m["age"] is None else int(m["age"])
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    local = run(policy, tmp_path / "in.parquet", tmp_path / "local.csv", chunk_size=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            ddf = dd.read_parquet(tmp_path / "in.parquet", dtype_backend="pyarrow").repartition(npartitions=3)
            results, quarantine = eb.evaluate_dask(MINI, ddf)
            results, quarantine = dask.compute(results, quarantine)
        job = eb.Job(mini, lang="en", summary=True)
        source = eb.Source(str(tmp_path / "in.parquet"), job.layout)
        report = eb.run_dask_file(job, source, str(tmp_path / "dask.csv"), "csv", str(tmp_path / "dask.q.csv"),
                                  scheduler=cluster.scheduler_address)
    assert results.shape[0] == local[0].rows_out and local[0].rows_quarantined > 0
    got = [{k: as_text(v) for k, v in row.items()}
           for row in pa.Table.from_pandas(results, preserve_index=False).to_pylist()]
    assert got == local[1]
    local_rows = [line.split(",")[0] for line in local[2].splitlines()[1:]]
    assert [str(r) for r in quarantine["row"]] == local_rows
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (
        local[0].rows_in, local[0].rows_out, local[0].rows_quarantined)
    assert read_rows(tmp_path / "dask.csv") == local[1]
    assert (tmp_path / "dask.q.csv").read_text(encoding="utf-8") == local[2]
