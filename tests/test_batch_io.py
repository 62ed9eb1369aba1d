"""The data county offices have (issue 11): encodings, Excel, carried keys, atomic and
accounted output.

Real files: ``fixtures/batch/households_gb18030_bom.csv`` is ``households.csv`` with its
village ids written in Chinese (VA0 → 红星村, VA1 → 向阳村, VA2 → 光明村), saved as GB18030
with its byte-order mark ``84 31 95 33``, as Chinese Windows saves it. Workbooks are built
in the tests: one by openpyxl (typed cells: numbers, dates, text), and one written byte by
byte the way Excel saves a sheet (every text in ``sharedStrings.xml`` referenced by index,
numbers as doubles — an id typed ``1001`` too —, dates as serial numbers styled with the
built-in date format 14, booleans as ``t="b"``), so the reader is tested on Excel's
layout and not only on what the same library writes.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import errno
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl.errors import FupinError
from fupin.engine import batch as eb
from fupin.engine.batch.excel import SheetWriter, cell_text, sheet_to_csv
from fupin.engine.batch.keys import carried_keys

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "batch"
POLICY = str(ROOT / "policy")
ONLY = ["monitoring_tier", "monitoring_measure", "exit_eligible", "education_aid_once"]
VILLAGES = {"VA0": "红星村", "VA1": "向阳村", "VA2": "光明村"}


NO_MEMBERS = FIX / "members_none.csv"  # a members file with no rows (a flat input names one: E816)


def run(pack, path, out, members=None, encoding=None, only=ONLY, chunk_size=1000, **kw):
    """A batch run through the API: (report, result rows as text, quarantine text). A CSV or
    Excel input without ``members`` is joined with :data:`NO_MEMBERS`."""
    job = eb.Job(pack, "household", None, None, only, "en")
    if members is None and str(path).partition("#")[0].endswith((".csv", ".xlsx")):
        members = NO_MEMBERS
    joined = {"members": members} if members else {}
    source = eb.Source(str(path), job.layout, joined, chunk_size, encoding=encoding, kept=job.carried)
    qpath = eb.quarantine_path(out)
    report = eb.run_batch(job, source, str(out), eb.output_format(out), qpath, **kw)
    return report, read_rows(out), Path(qpath).read_text(encoding="utf-8-sig")


def read_rows(path) -> list:
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
        return [{k: cell_text(v) for k, v in zip(rows[0], r)} for r in rows[1:]]
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in pq.read_table(path).to_pylist()]


def leftovers(folder) -> list:
    """Temporary output files left in a folder."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".part"))


@pytest.fixture
def cli(monkeypatch, pack):
    import fupin.engine.api as api

    monkeypatch.setattr(eb, "load", lambda path, cache=True: pack)
    monkeypatch.setattr(api, "load_policy", lambda path: pack)
    return lambda *args: CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def utf8_rows(pack, tmp_path_factory):
    """The UTF-8 CSV's results and quarantine, to compare every other format with."""
    out = tmp_path_factory.mktemp("utf8") / "out.csv"
    report, rows, quarantine = run(pack, FIX / "households.csv", out, FIX / "members.csv")
    return report, rows, quarantine


# --- encodings


def test_gb18030_with_bom_reads_like_utf8(pack, tmp_path, utf8_rows):
    report, rows, quarantine = run(pack, FIX / "households_gb18030_bom.csv", tmp_path / "out.csv", FIX / "members.csv")
    base_report, base_rows, base_quarantine = utf8_rows
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == \
        (base_report.rows_in, base_report.rows_out, base_report.rows_quarantined)
    assert [r["id"] for r in rows] == [r["id"] for r in base_rows]
    for row, base in zip(rows, base_rows):
        assert row["village_id"] == VILLAGES.get(base["village_id"], base["village_id"])
        assert {k: row[k] for k in ONLY} == {k: base[k] for k in ONLY}
    assert quarantine.splitlines()[1:] == [_villages(line).replace("households.csv", "households_gb18030_bom.csv")
                                           for line in base_quarantine.splitlines()[1:]]


def _villages(text: str) -> str:
    for a, b in VILLAGES.items():
        text = text.replace(a, b)
    return text


@pytest.mark.parametrize("encoding", [None, "gbk", "GB18030", "cp936"])
def test_gbk_without_bom_detected_or_given(pack, tmp_path, utf8_rows, encoding):
    text = _villages((FIX / "households.csv").read_text(encoding="utf-8-sig"))
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "m.csv").write_bytes((FIX / "members.csv").read_text(encoding="utf-8").encode("gbk"))
    _, rows, _ = run(pack, tmp_path / "gbk.csv", tmp_path / "out.csv", tmp_path / "m.csv", encoding)
    assert [r["id"] for r in rows] == [r["id"] for r in utf8_rows[1]]
    assert {r["village_id"] for r in rows} - {""} == set(VILLAGES.values())
    for row, base in zip(rows, utf8_rows[1]):
        assert {k: row[k] for k in ONLY} == {k: base[k] for k in ONLY}


def test_utf8_with_bom_and_members_in_gbk(pack, tmp_path, utf8_rows):
    """Each joined file has its own encoding, detected."""
    (tmp_path / "h.csv").write_bytes(codecs.BOM_UTF8 + (FIX / "households.csv").read_bytes())
    (tmp_path / "m.csv").write_bytes((FIX / "members.csv").read_text(encoding="utf-8").encode("gb18030"))
    _, rows, _ = run(pack, tmp_path / "h.csv", tmp_path / "out.csv", tmp_path / "m.csv")
    assert rows == utf8_rows[1]


def test_wrong_encoding_stops_located_and_accounted(pack, tmp_path, cli):
    out = tmp_path / "out.csv"
    with pytest.raises(eb.Stopped) as caught:
        run(pack, FIX / "households_gb18030_bom.csv", out, encoding="utf-8")
    assert caught.value.report.stopped.code == "E830"
    assert not out.exists() and not Path(eb.quarantine_path(out)).exists() and leftovers(tmp_path) == []
    result = cli("batch", POLICY, FIX / "households_gb18030_bom.csv", "--members", NO_MEMBERS, "-o", out,
                 "--encoding", "utf-8", "--lang", "en")
    assert result.exit_code == 1
    assert (f"{FIX / 'households_gb18030_bom.csv'}:1:1: error[E830]: the input is not text in utf-8: cannot decode "
            f"the bytes from line 1, byte 1 (offset 0 of the file)") in result.stderr  # GB18030's BOM
    assert "hint: name the encoding with --encoding (e.g. gb18030, utf-8)" in result.stderr
    assert "rows in 0 = rows evaluated 0 + rows quarantined 0 + rows not processed 0; stopped early" in result.stderr


def test_unknown_encoding_name(pack):
    job = eb.Job(pack, "household", None, None, ONLY, "en")
    with pytest.raises(FupinError) as caught:
        eb.Source(str(FIX / "households.csv"), job.layout, {}, 100, encoding="klingon")
    assert caught.value.render("en").startswith("<arguments>:0:0: error[E830]: the input is not text in klingon: "
                                                "unknown encoding name")


# --- Excel


def typed(text: str):
    """A CSV cell as the value a person would type into Excel."""
    if text in ("", None):
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if cell_text(float(value)) == text:
            return value
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def write_book(path, sheets: dict) -> None:
    """A workbook made by openpyxl: one sheet per CSV file, cells typed."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, csv_path in sheets.items():
        sheet = book.create_sheet(name)
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            for i, row in enumerate(csv.reader(f)):
                sheet.append(row if i == 0 else [typed(v) for v in row])
    book.save(path)


def test_openpyxl_workbook_with_members_sheet(pack, tmp_path, utf8_rows):
    book = tmp_path / "register.xlsx"
    write_book(book, {"农户": FIX / "households.csv", "成员": FIX / "members.csv"})
    report, rows, quarantine = run(pack, book, tmp_path / "out.csv", "#成员")
    base_report, base_rows, base_quarantine = utf8_rows
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == \
        (base_report.rows_in, base_report.rows_out, base_report.rows_quarantined)
    assert rows == base_rows
    # the same sheets named explicitly, members from a second workbook
    write_book(tmp_path / "members.xlsx", {"m": FIX / "members.csv"})
    _, again, _ = run(pack, f"{book}#农户", tmp_path / "again.csv", str(tmp_path / "members.xlsx"))
    assert again == base_rows


def excel_saved_book(path) -> None:
    """A one-sheet workbook laid out as Excel saves it (see the module docstring)."""
    strings = ["id", "status", "income_per_capita", "assessed_on", "registered", "village_id", "exited", "红星村", "poor"]
    shared = "".join(f"<si><t>{s}</t></si>" for s in strings)
    s = lambda ref, i: f'<c r="{ref}" t="s"><v>{i}</v></c>'  # noqa: E731 - a shared string cell
    rows = [
        "".join(s(f"{c}1", i) for c, i in zip("ABCDEF", range(6))),
        # id 1001 typed as a number; 2020-01-01 is serial 43831; TRUE as t="b"
        '<c r="A2"><v>1001</v></c>' + s("B2", 6) + '<c r="C2"><v>4999.5</v></c>'
        + '<c r="D2" s="1"><v>43831</v></c><c r="E2" t="b"><v>1</v></c>' + s("F2", 7),
        '<c r="A3"><v>1002</v></c>' + s("B3", 8) + '<c r="C3"><v>3000</v></c>',
    ]
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + "".join(f'<row r="{i + 1}">{r}</row>' for i, r in enumerate(rows)) + "</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{ns}/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{ns}/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
        "xl/styles.xml": f'<styleSheet xmlns="{ns}/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>",
        "xl/sharedStrings.xml": f'<sst xmlns="{ns}/spreadsheetml/2006/main" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{shared}</sst>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)


def test_excel_saved_workbook_cells_as_text(tmp_path):
    excel_saved_book(tmp_path / "excel.xlsx")
    text = Path(sheet_to_csv(str(tmp_path / "excel.xlsx"), None))
    try:
        assert text.read_text(encoding="utf-8").splitlines() == [
            "id,status,income_per_capita,assessed_on,registered,village_id",
            "1001,exited,4999.5,2020-01-01,true,红星村",
            "1002,poor,3000,,,",
        ]
    finally:
        text.unlink()


def test_excel_saved_workbook_through_batch(pack, tmp_path):
    excel_saved_book(tmp_path / "excel.xlsx")
    report, rows, quarantine = run(pack, tmp_path / "excel.xlsx", tmp_path / "out.csv", only=None)
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (2, 2, 0), quarantine
    assert [(r["id"], r["village_id"]) for r in rows] == [("1001", "红星村"), ("1002", "")]
    facts = {"id": "1001", "status": "exited", "income_per_capita": "4999.5", "assessed_on": "2020-01-01",
             "registered": True, "village_id": "红星村"}
    expected = pack.evaluate(facts, only=ONLY)
    assert {k: rows[0][k] for k in ONLY} == {k: _text(expected.values[k]) for k in ONLY}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).removesuffix(".00") if isinstance(value, decimal.Decimal) else str(value)


def test_missing_sheet(pack, tmp_path):
    excel_saved_book(tmp_path / "excel.xlsx")
    job = eb.Job(pack, "household", None, None, ONLY, "en")
    with pytest.raises(FupinError) as caught:
        eb.Source(f"{tmp_path / 'excel.xlsx'}#农户", job.layout)
    assert caught.value.render("en").startswith(f"{tmp_path / 'excel.xlsx'}:0:0: error[E832]: cannot read the "
                                                "workbook: no sheet `农户` (sheets: Sheet1)")


def test_xlsx_output_matches_csv(pack, tmp_path, utf8_rows):
    _, rows, _ = run(pack, FIX / "households.csv", tmp_path / "out.xlsx", FIX / "members.csv")
    base = utf8_rows[1]
    assert [r["id"] for r in rows] == [r["id"] for r in base]
    for row, b in zip(rows, base):
        assert row["village_id"] == b["village_id"]
        for name in ONLY:  # money comes back as a number: compare values
            assert (decimal.Decimal(row[name]) == decimal.Decimal(b[name])) if b[name][:1].isdigit() \
                else row[name] == b[name], name


def test_sheet_writer_keeps_text_as_text(tmp_path):
    import pyarrow as pa
    from openpyxl import load_workbook

    table = pa.table({"id": ["=1+1", "a\x01b"], "n": [1, None]})
    writer = SheetWriter(str(tmp_path / "t.xlsx"), table.schema)
    writer.write_table(table)
    writer.close()
    cells = list(load_workbook(tmp_path / "t.xlsx").worksheets[0].iter_rows(values_only=True))
    assert cells == [("id", "n"), ("=1+1", 1), ("a\ufffdb", None)]
    assert load_workbook(tmp_path / "t.xlsx").worksheets[0]["A2"].data_type == "s"


def test_csv_output_with_bom(pack, tmp_path):
    run(pack, FIX / "households.csv", tmp_path / "plain.csv", FIX / "members.csv")
    run(pack, FIX / "households.csv", tmp_path / "bom.csv", FIX / "members.csv", bom=True)
    plain, bom = (tmp_path / "plain.csv").read_bytes(), (tmp_path / "bom.csv").read_bytes()
    assert not plain.startswith(codecs.BOM_UTF8)
    assert bom == codecs.BOM_UTF8 + plain
    assert (tmp_path / "bom.quarantine.csv").read_bytes().startswith(codecs.BOM_UTF8)


# --- key columns


def test_carried_keys_come_from_declarations(pack):
    checked = pack.program(None).checked
    for name, ent in checked.entities.items():
        keys = carried_keys(checked, name)
        assert keys[:1] == ((ent.parent_key,) if ent.parent_key else keys[:1]), name
    assert carried_keys(checked, "household") == ("village_id", "township_id")
    assert carried_keys(checked, "member") == ("household_id", "village_id", "township_id")


def test_township_is_carried_and_no_ancestor_key_is_a_fact(pack, tmp_path):
    """A register naming each household's village and township: both columns reach the
    output, neither is warned about (W906) in batch nor refused (E815) by eval."""
    (tmp_path / "h.csv").write_text("id,village_id,township_id,status\nH1,V1,T1,poor\n", encoding="utf-8")
    report, rows, _ = run(pack, tmp_path / "h.csv", tmp_path / "out.csv")
    assert [(r["id"], r["village_id"], r["township_id"]) for r in rows] == [("H1", "V1", "T1")]
    assert [w.code for w in report.warnings] == []
    result = pack.evaluate({"id": "H1", "village_id": "V1", "township_id": "T1", "status": "poor"})
    assert result.warnings == [] and result.id == "H1"


@pytest.mark.parametrize("path, columns", [
    (FIX / "households.csv", ["id", "village_id", *ONLY, "unknown", "possible", "errors"]),
    (FIX / "households.jsonl", ["id", "village_id", *ONLY, "unknown", "possible", "errors"]),
    (FIX / "villages.csv", None),
])
def test_output_columns(pack, tmp_path, path, columns):
    if columns is None:  # no village_id in a file of villages: no carried column
        job = eb.Job(pack, "village", None, None, None, "en")
        joined = {"households": str(FIX / "village_households.csv"), "members": str(FIX / "village_members.csv")}
        source = eb.Source(str(path), job.layout, joined, 100, kept=job.carried)
        eb.run_batch(job, source, str(tmp_path / "v.parquet"), "parquet", str(tmp_path / "q.csv"))
        assert pq.read_table(tmp_path / "v.parquet").column_names[:2] == ["id", job.outputs[0]]
        return
    run(pack, path, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").column_names == columns


# --- atomic, accounted output


def test_disk_full_is_an_output_error(pack, tmp_path, monkeypatch, cli, utf8_rows):
    def full(self, table, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    out = tmp_path / "out.parquet"
    with pytest.raises(eb.Stopped) as caught:
        run(pack, FIX / "households.csv", out, FIX / "members.csv")
    stopped = caught.value.report.stopped
    assert (stopped.code, stopped.span.file, stopped.args["path"]) == ("E831", str(out), str(out))
    assert not out.exists() and leftovers(tmp_path) == []
    result = cli("batch", POLICY, FIX / "households.csv", "--members", FIX / "members.csv", "-o", out, "--lang", "en")
    assert result.exit_code == 1
    assert f"{out}:0:0: error[E831]: cannot write the output `{out}`: ENOSPC: No space left on device" in result.stderr
    base = utf8_rows[0]
    assert (f"rows in {base.rows_in} = rows evaluated {base.rows_out} + rows quarantined {base.rows_quarantined} "
            f"+ rows not processed 0; stopped early, no result file written: E831") in result.stderr


def test_output_folder_missing(pack, tmp_path):
    out = tmp_path / "no" / "such" / "out.csv"
    with pytest.raises(FupinError) as caught:
        run(pack, FIX / "households.csv", out)
    assert caught.value.render("en").startswith(f"{out}:0:0: error[E831]: cannot write the output `{out}`: ENOENT")


def test_any_exception_stops_accounted(pack, tmp_path, monkeypatch, cli):
    """Whatever stops the run (here decimal.Overflow out of evaluation, on the 2nd chunk)."""
    real, calls = eb.Job.process, []

    def process(self, chunk):
        calls.append(1)
        if len(calls) == 2:
            raise decimal.Overflow([decimal.Overflow])
        return real(self, chunk)

    monkeypatch.setattr(eb.Job, "process", process)
    out = tmp_path / "out.parquet"
    result = cli("batch", POLICY, FIX / "households.jsonl", "-o", out, "--chunk-size", "10", "--lang", "en")
    assert result.exit_code == 1
    assert "error[E833]: the batch stopped early: Overflow" in result.stderr
    assert "rows in 20 = rows evaluated " in result.stderr and "+ rows not processed 10; stopped early" in result.stderr
    assert not out.exists() and not (tmp_path / "out.quarantine.csv").exists() and leftovers(tmp_path) == []


def test_kill_leaves_no_file_that_looks_complete(tmp_path):
    """SIGKILL in the middle of a run: only a hidden temporary name is left."""
    fupin = [sys.executable, "-m", "fupin.cli"]
    subprocess.run([*fupin, "generate", "60000", "-o", str(tmp_path / "in.parquet")], check=True,
                   capture_output=True)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([*fupin, "batch", POLICY, str(tmp_path / "in.parquet"), "-o", str(out),
                             "--chunk-size", "2000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            parts = [p for p in tmp_path.iterdir() if p.name.startswith(".out.csv.") and p.stat().st_size > 0]
            if parts:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists() and not (tmp_path / "out.quarantine.csv").exists()
    assert leftovers(tmp_path) == sorted([f".out.csv.{proc.pid}.part", f".out.quarantine.csv.{proc.pid}.part"])
    # the next run to the same path clears what the killed one left (its process is gone),
    # but not the temporary file of a run still going (this test's own pid stands for one)
    alive = tmp_path / f".out.csv.{os.getpid()}.part"
    alive.write_text("another run, still writing")
    again = subprocess.run([*fupin, "batch", POLICY, str(tmp_path / "in.parquet"), "-o", str(out), "--only",
                            "exit_eligible"], capture_output=True)
    assert again.returncode == 0, again.stderr
    assert out.exists() and leftovers(tmp_path) == [alive.name]


@pytest.mark.parametrize("lang, said, jobs", [
    ("en", "fupin: stopped by SIGTERM; no half-written file is left", "1"),
    ("zh", "fupin：收到 SIGTERM，已停止；没有留下写了一半的文件", "2"),
])
def test_sigterm_stops_a_run_and_leaves_nothing(tmp_path, lang, said, jobs):
    """SIGTERM (a scheduler's stop, `timeout`) in the middle of a run, with or without worker
    processes: the run removes what it was writing, says why, and exits 143."""
    fupin = [sys.executable, "-m", "fupin.cli"]
    subprocess.run([*fupin, "generate", "60000", "-o", str(tmp_path / "in.parquet")], check=True,
                   capture_output=True)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([*fupin, "batch", POLICY, str(tmp_path / "in.parquet"), "-o", str(out), "--chunk-size",
                             "2000", "--jobs", jobs, "--lang", lang], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if [p for p in tmp_path.iterdir() if p.name.startswith(".out.csv.") and p.stat().st_size > 0]:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be stopped"
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert err.splitlines()[-1] == said
    assert not out.exists() and leftovers(tmp_path) == []


def test_jsonl_null_line_is_quarantined_not_a_crash(pack, tmp_path):
    """pyarrow's JSON reader crashes the process on a line `null`: such chunks are read line by line."""
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "A", "status": "poor", "members": []}\nnull\n[1]\n{"id": "B", "members": []}\n')
    report, rows, quarantine = run(pack, tmp_path / "in.jsonl", tmp_path / "out.csv")
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (4, 2, 2)
    assert [r["id"] for r in rows] == ["A", "B"]
    assert [line.split(",")[0] for line in quarantine.splitlines()[1:]] == ["2", "3"]


@pytest.mark.parametrize("number", ["1e-9999999", "0.5e-1606272", "1E+99999", "-2e-0004000"])
def test_jsonl_number_with_a_huge_exponent_is_quarantined_not_a_crash(tmp_path, number):
    """pyarrow's JSON reader can crash the process converting such a number to a decimal
    column (a segmentation fault with pyarrow 26, found by fuzzing): chunks holding one are
    read line by line, and the row is quarantined with E820 like any number beyond the
    bounds. In a subprocess, so that a regression fails this test, not the whole run."""
    (tmp_path / "in.jsonl").write_text(
        '{"id": "A", "registered": true, "status": "poor", "income_per_capita": 3000, "members": []}\n'
        f'{{"id": "B", "registered": true, "status": "poor", "income_per_capita": {number}, "members": []}}\n',
        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fupin.cli", "batch", str(ROOT / "benchmarks" / "small_policy"),
                           str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.csv"), "--lang", "en"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rows in 2 = rows out 1 + rows quarantined 1" in done.stderr + done.stdout
    quarantine = (tmp_path / "out.quarantine.csv").read_text(encoding="utf-8").splitlines()
    assert quarantine[1].startswith("2,B,income_per_capita,E820,")


# --- fupin eval reads the same files


@pytest.mark.parametrize("make", ["gb18030", "xlsx", "jsonl", "parquet"])
def test_eval_reads_table_files(pack, tmp_path, make):
    from fupin.engine.facts.read import FactsFile

    rows = [{"id": "H1", "status": "poor", "income_per_capita": "3000", "village_id": "红星村"},
            {"id": "H2", "status": "exited", "income_per_capita": "12.5OO"}]
    header = ["id", "status", "income_per_capita", "village_id"]
    text = "\n".join([",".join(header)] + [",".join(r.get(h, "") for h in header) for r in rows]) + "\n"
    path = tmp_path / f"facts.{ {'gb18030': 'csv'}.get(make, make)}"
    if make == "gb18030":
        path.write_bytes(b"\x84\x31\x95\x33" + text.encode("gb18030"))
    elif make == "xlsx":
        (tmp_path / "t.csv").write_text(text, encoding="utf-8")
        write_book(path, {"农户": tmp_path / "t.csv"})
    elif make == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    else:
        import pyarrow as pa

        pq.write_table(pa.Table.from_pylist(rows), path)
    ffile = FactsFile(str(path))
    assert [facts["id"] for facts, _ in ffile.items] == ["H1", "H2"]
    assert str(ffile.items[0][0]["income_per_capita"]) == "3000"
    evaluated = pack.evaluate_file(ffile, only=ONLY)
    assert evaluated[0].result is not None and evaluated[1].result is None
    bad = evaluated[1].invalid[0]  # the row as a spreadsheet numbers it (header: row 1), else the record number
    line = 3 if make in ("gb18030", "xlsx") else 2
    col = 11 if make == "gb18030" else 3  # a CSV line: the character where the cell starts (`H2,exited,`)
    assert (bad.code, bad.span.file, bad.span.line, bad.span.col) == ("E802", str(path), line, col)


@pytest.mark.parametrize("encoding, code", [("gbk", 0), (None, 0), ("utf-8", 1)])
def test_eval_encoding_option(tmp_path, monkeypatch, encoding, code):
    """`fupin eval --encoding` names a CSV's encoding (detected without it); the wrong one
    is a located E830, not a crash."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    (tmp_path / "g.csv").write_bytes("id,status,income_per_capita\nH1,已脱贫,4000\n".encode("gbk"))
    monkeypatch.chdir(ROOT)
    args = ["eval", "policy", str(tmp_path / "g.csv"), "--only", "monitoring_tier", "--lang", "en"]
    res = CliRunner().invoke(main, args + (["--encoding", encoding] if encoding else []))
    assert res.exit_code == code, res.output
    if code:
        assert "error[E830]" in res.stderr
    else:
        assert json.loads(res.stdout)[0]["results"]["monitoring_tier"] == "red"


@pytest.mark.parametrize("lang, text", [
    ("en", "error[E830]: the input is not text in UTF-8, GB18030 or any encoding fupin can detect: "
           "its first bytes look like no encoding's text"),
    ("zh", "error[E830]: 输入不是 UTF-8、GB18030 或其他能识别的 编码的文本：开头的字节不像任何编码的文本"),
])
def test_bytes_of_no_encoding_say_so(tmp_path, lang, text):
    """Bytes no encoding reads: a located E830 that names what was tried (it printed `?`)."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    (tmp_path / "junk.csv").write_bytes(b"\xff\xfe\x00\x01garbage")
    res = CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(tmp_path / "junk.csv"), "-o",
                                    str(tmp_path / "j.csv"), "--lang", lang])
    assert res.exit_code == 1 and f"{tmp_path / 'junk.csv'}:0:0: {text}" in res.stderr, res.stderr
    assert not (tmp_path / "j.csv").exists()


@pytest.mark.parametrize("lang, text", [
    ("en", "3:9: error[E830]: the input is not text in UTF-8: cannot decode the bytes from line 3, byte 9 "
           "(offset 47 of the file)"),
    ("zh", "3:9: error[E830]: 输入不是 UTF-8 编码的文本：第 3 行第 9 个字节起无法解码（文件第 47 字节）"),
])
def test_utf8_with_broken_bytes_is_not_read_as_a_code_page(tmp_path, lang, text):
    """A UTF-8 file with a few broken bytes, which charset-normalizer takes for a Cyrillic
    code page: E830 at the first broken byte, not every Chinese value read as mojibake and
    every row quarantined without a word about the encoding."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    (tmp_path / "h.csv").write_bytes("id,registered,status\nA1,true,已脱贫\n".encode("utf-8") + b"A2,true,\xff\xfe\xfa\n")
    (tmp_path / "m.csv").write_text("household_id,age\nA1,30\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(tmp_path / "h.csv"), "--members",
                                    str(tmp_path / "m.csv"), "-o", str(tmp_path / "o.csv"), "--lang", lang])
    assert res.exit_code == 1 and f"{tmp_path / 'h.csv'}:{text}" in res.stderr, res.stderr
    assert not list(tmp_path.glob("o*"))


@pytest.mark.parametrize("encoding, line", [("utf-8", 40_002), ("gb18030", 40_002)])
def test_a_broken_byte_far_into_a_csv_is_located_at_its_line(tmp_path, encoding, line):
    """A byte the encoding cannot decode, megabytes after the sample detection reads and
    the header: pyarrow's reader stops on it (its message has no place), and E830 names
    the line and byte; nothing is written."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    body = "id,registered,status,income_per_capita\n" + "".join(f"H{i},true,已脱贫,3000\n" for i in range(40_000))
    (tmp_path / "h.csv").write_bytes(body.encode(encoding) + b"Hx,true,\xff,3000\n")
    (tmp_path / "m.csv").write_text("household_id,age\nH1,30\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["batch", str(ROOT / "benchmarks" / "small_policy"), str(tmp_path / "h.csv"),
                                    "--members", str(tmp_path / "m.csv"), "-o", str(tmp_path / "o.parquet"),
                                    "--encoding", encoding, "--lang", "en"])
    assert res.exit_code == 1
    assert (f"{tmp_path / 'h.csv'}:{line}:9: error[E830]: the input is not text in {encoding}: cannot decode the bytes "
            f"from line {line}, byte 9 (offset {len(body.encode(encoding)) + 8} of the file)") in res.stderr, res.stderr
    assert not list(tmp_path.glob("o*"))


def test_a_parquet_footer_is_parsed_once_a_run_and_again_when_the_file_changes(tmp_path, monkeypatch):
    """The footer (names, rows, row groups, both readers) is read once per run of an
    unchanged file (readers.footer); a file rewritten in between is read anew, so a run
    never sees an old footer."""
    import pyarrow as pa

    from fupin.engine.batch import readers

    parsed = []
    real = pq.read_metadata
    monkeypatch.setattr(readers.pq, "read_metadata", lambda p, *a, **k: parsed.append(str(p)) or real(p, *a, **k))
    path = tmp_path / "in.parquet"
    member = pa.list_(pa.struct([("age", pa.int64())]))

    def write(ids):
        pq.write_table(pa.table({"id": ids, "registered": [True] * len(ids), "status": ["poor"] * len(ids),
                                 "income_per_capita": pa.array([3000] * len(ids), pa.decimal128(14, 2)),
                                 "members": pa.array([[]] * len(ids), member)}), path)

    def run(out):
        r = CliRunner().invoke(main, ["batch", str(ROOT / "benchmarks" / "small_policy"), str(path), "-o",
                                      str(tmp_path / out), "--lang", "en"])
        assert r.exit_code == 0, r.output
        return pq.read_table(tmp_path / out).column("id").to_pylist()

    write(["H1", "H2"])
    assert run("a.parquet") == ["H1", "H2"] and parsed == [str(path)]
    time.sleep(0.01)
    write(["H1", "H2", "H3"])
    assert run("b.parquet") == ["H1", "H2", "H3"] and parsed == [str(path)] * 2


@pytest.mark.parametrize("lang, text", [
    ("en", "error[E804]: invalid input: the input file `{}` is a folder: give one .parquet, .csv, .jsonl or .xlsx file"),
    ("zh", "error[E804]: 输入无效：输入文件 `{}` 是一个文件夹：应给出一个 .parquet、.csv、.jsonl 或 .xlsx 文件"),
])
def test_a_folder_as_input_is_named_a_folder(tmp_path, lang, text):
    """Not "not found": the path is there, and is the wrong kind of thing."""
    res = CliRunner().invoke(main, ["batch", str(ROOT / "benchmarks" / "small_policy"), str(tmp_path), "-o",
                                    str(tmp_path / "o.parquet"), "--lang", lang])
    assert res.exit_code == 1 and f"<arguments>:0:0: {text.format(tmp_path)}" in res.stderr, res.stderr
