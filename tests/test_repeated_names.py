"""A name given twice in one record is reported, never resolved silently (one of the two
values would be dropped): a CSV, sheet or joined file's header and a Parquet schema stop
the run before anything is written (E804 at the file); a JSON line with a key twice is
quarantined with its line; ``fupin eval`` and the HTTP body refuse it
(engine/facts/repeated.py)."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine.facts.repeated import RepeatedKey, repeats, schema_repeats, unique_object


ROOT = Path(__file__).resolve().parent.parent
MEMBER = pa.struct([("age", pa.int64())])


def fupin(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_parquet(path, names, arrays):
    pq.write_table(pa.Table.from_arrays(arrays, names=names), path)


def csv_file(path, text):
    path.write_text(text, encoding="utf-8")


def xlsx_file(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


# --- the pure functions


@pytest.mark.parametrize("names, want", [
    (["id", "status"], {}),
    (["id", "id", "status"], {"id": [1, 2]}),
    (["a", "b", "a", "b", "a"], {"a": [1, 3, 5], "b": [2, 4]}),
    ([], {}),
    (["", ""], {"": [1, 2]}),
])
def test_repeats(names, want):
    assert repeats(names) == want


@pytest.mark.parametrize("fields, want", [
    ([("id", pa.string()), ("members", pa.list_(MEMBER))], {}),
    ([("id", pa.string()), ("id", pa.string())], {"id": [1, 2]}),
    ([("members", pa.list_(pa.struct([("age", pa.int64()), ("age", pa.int64())])))], {"members[].age": [1, 2]}),
    ([("m", pa.list_(pa.list_(pa.struct([("x", pa.int8()), ("x", pa.int8())]))))], {"m[][].x": [1, 2]}),
    ([("s", pa.struct([("k", pa.int8()), ("k", pa.int8()), ("j", pa.int8())]))], {"s.k": [1, 2]}),
])
def test_schema_repeats(fields, want):
    assert schema_repeats(pa.schema(fields)) == want


@pytest.mark.parametrize("text, key", [
    ('{"a": 1, "a": 2}', "a"),
    ('{"a": {"b": 1, "b": 1}}', "b"),
    ('[{"x": 1}, {"y": 1, "y": 2}]', "y"),
])
def test_unique_object_refuses_a_key_twice(text, key):
    with pytest.raises(RepeatedKey) as caught:
        json.loads(text, object_pairs_hook=unique_object)
    assert caught.value.key == key


def test_unique_object_keeps_an_ordinary_object():
    assert json.loads('{"a": 1, "b": [{"a": 2}]}', object_pairs_hook=unique_object) == {"a": 1, "b": [{"a": 2}]}


# --- fupin batch: a header or schema stops the run before anything is written

HEADER_EN = "column `{name}` appears {n} times (columns {cols}) in the header: each column needs a name of its own"
HEADER_ZH = "表头中列名 `{name}` 出现 {n} 次（第 {cols} 列）：每列只能有一个名字"
SCHEMA_EN = "column `{name}` appears {n} times in the file's schema"
SCHEMA_ZH = "文件结构中列 `{name}` 出现 {n} 次"


def _households_csv(tmp_path, header="id,status"):
    path = tmp_path / "h.csv"
    csv_file(path, f"{header}\nH1,poor\n" if header.count(",") == 1 else f"{header}\nH1,poor,exited\n")
    return path


CASES = {
    "csv header": lambda t: (_households_csv(t, "id,status,status"), ["--join", f"members={_members(t)}"],
                             "h.csv:1:1", ("status", 2, "2, 3", "2、3"), False),
    "joined header": lambda t: (_households_csv(t), ["--join", f"members={_members(t, 'household_id,age,age')}"],
                                "m.csv:1:1", ("age", 2, "2, 3", "2、3"), False),
    "three times": lambda t: (_households_csv(t, "id,id,status,id"), ["--join", f"members={_members(t)}"],
                              "h.csv:1:1", ("id", 3, "1, 2, 4", "1、2、4"), False),
    "parquet": lambda t: (_parquet(t, ["id", "status", "id"], [["P1"], ["poor"], ["P2"]]), [],
                          "p.parquet:0:0", ("id", 2, None, None), True),
    "parquet members": lambda t: (_parquet_members(t), [], "p.parquet:0:0", ("members[].age", 2, None, None), True),
}


def _members(tmp_path, header="household_id,age"):
    path = tmp_path / "m.csv"
    csv_file(path, f"{header}\nH1,30{',31' if header.count(',') == 2 else ''}\n")
    return path


def _parquet(tmp_path, names, columns):
    path = tmp_path / "p.parquet"
    arrays = [pa.array(c) for c in columns] + [pa.array([[]], pa.list_(MEMBER))]
    write_parquet(path, [*names, "members"], arrays)
    return path


def _parquet_members(tmp_path):
    path = tmp_path / "p.parquet"
    kid = pa.struct([("age", pa.int64()), ("age", pa.int64())])
    write_parquet(path, ["id", "members"], [pa.array(["P1"]), pa.array([[{"age": 1}]], pa.list_(kid))])
    return path


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_batch_stops_before_writing_on_a_column_named_twice(tmp_path, case, lang):
    path, extra, where, (name, n, cols_en, cols_zh), schema = CASES[case](tmp_path)
    out = tmp_path / "out.parquet"
    done = fupin("batch", "policy", path, *extra, "-o", out, "--lang", lang)
    assert done.exit_code == 1
    if schema:
        text = (SCHEMA_EN if lang == "en" else SCHEMA_ZH).format(name=name, n=n)
    else:
        text = (HEADER_EN if lang == "en" else HEADER_ZH).format(name=name, n=n, cols=cols_en if lang == "en" else cols_zh)
    assert f"{where}: error[E804]" in done.output and text in done.output
    assert not list(tmp_path.glob("out*"))  # no result, quarantine or record


def test_a_sheet_named_twice_in_its_header_stops_too(tmp_path):
    book = tmp_path / "h.xlsx"
    xlsx_file(book, [["id", "status", "id"], ["X1", "poor", "X2"]])
    members = _members(tmp_path)
    done = fupin("batch", "policy", book, "--join", f"members={members}", "-o", tmp_path / "out.parquet", "--lang", "en")
    assert done.exit_code == 1
    assert "h.xlsx:1:1: error[E804]" in done.output
    assert HEADER_EN.format(name="id", n=2, cols="1, 3") in done.output


# --- fupin batch: a JSON line with a key twice is quarantined, the others evaluated

LINES = [
    ('{"id": "J1", "status": "poor", "status": "exited", "members": []}', "J1", "`status`"),
    ('{"id": "J2", "members": [{"age": 5, "age": 70}]}', "J2", "`age`"),
    ('{"id": "J3", "id": "J4", "members": []}', "", "`id`"),
    ('{"id": "J5", "members": []}', None, None),
]


@pytest.mark.parametrize("lang, said", [("en", "line {n}: key {key} appears twice in one object (give it once)"),
                                        ("zh", "第 {n} 行：字段 {key} 在同一对象中出现两次（只能给一次）")])
def test_a_json_line_with_a_key_twice_is_quarantined_with_its_line(tmp_path, lang, said):
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(line for line, _, _ in LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    done = fupin("batch", "policy", path, "-o", out, "--lang", lang, "--only", "monitoring_tier")
    assert done.exit_code == 0, done.output
    assert pq.read_table(out).column("id").to_pylist() == ["J5"]
    quarantine = (tmp_path / "out.quarantine.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    want = [(n, ident, key) for n, (_, ident, key) in enumerate(LINES, 1) if key]
    assert len(quarantine) == len(want)
    for row, (n, ident, key) in zip(quarantine, want):
        assert row.startswith(f"{n},{ident},,E804,") and said.format(n=n, key=key) in row


# --- fupin eval and the HTTP body


@pytest.mark.parametrize("name, text, want", [
    ("e.csv", "id,status,status\nE1,poor,exited\n",
     "e.csv:1:1: error[E804]: invalid input: column `status` appears 2 times (columns 2, 3) in the header"),
    ("e.jsonl", '{"id": "E1", "status": "poor"}\n{"id": "E2", "status": "poor", "status": "exited"}\n',
     "e.jsonl:2:1: error[E804]: invalid input: key `status` appears twice in one object (give it once)"),
    # YAML and JSON facts: E804 like a JSON line, not the rule files' E104 with its hint
    # "a name is declared once in the whole policy"
    ("e.yaml", "- id: E1\n  status: poor\n  members:\n  - {age: 3, age: 4}\n",
     "e.yaml:4:14: error[E804]: invalid input: key `age` appears twice in one object (first at {dir}e.yaml:4:6; give "
     "it once)\n    - {{age: 3, age: 4}}\n               ^\n\n"),
    ("e.json", '{"id": "E1", "status": "poor", "status": "exited"}',
     "e.json:1:32: error[E804]: invalid input: key `status` appears twice in one object (first at {dir}e.json:1:14; "
     "give it once)\n"),
])
def test_eval_refuses_a_name_twice(tmp_path, name, text, want):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    done = fupin("eval", "policy", path, "--lang", "en")
    assert done.exit_code == 1 and want.format(dir=f"{tmp_path}/") in done.output, done.output


def test_eval_refuses_a_parquet_column_twice(tmp_path):
    path = _parquet(tmp_path, ["id", "id"], [["P1"], ["P2"]])
    done = fupin("eval", "policy", path, "--lang", "en")
    assert done.exit_code == 1
    assert "p.parquet:0:0: error[E804]: invalid input: column `id` appears 2 times in the file's schema" in done.output


@pytest.mark.parametrize("body, key", [
    (b'{"facts": {"id": "W1", "status": "poor", "status": "exited"}}', "status"),
    (b'{"facts": {"id": "W1", "members": [{"age": 3, "age": 4}]}}', "age"),
    (b'{"facts": {"id": "W1"}, "facts": {"id": "W2"}}', "facts"),
])
def test_the_http_body_refuses_a_key_twice(body, key):
    from fupin.web.app import create_app
    from fupin.web.config import ServeConfig

    async def go():
        app = create_app(ServeConfig(policy=str(ROOT / "policy")))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fupin") as client:
            return await client.post("/v1/evaluate?lang=en", content=body, headers={"content-type": "application/json"})
    r = asyncio.run(go())
    assert r.status_code == 400 and r.json()["code"] == "E871"
    assert f"key `{key}` appears twice in one object (give it once)" in json.dumps(r.json(), ensure_ascii=False)
