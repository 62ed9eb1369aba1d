"""The workbench's pages over HTTP (httpx through the ASGI app): every page in zh and en,
the token and language cookies, no external URL in any page or asset, and each page's
work — the household form and its decisions, the literate policy, dataset and impact
jobs, the rule editor (check, download, and saving only with --allow-edit)."""
from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from fupin.web.app import create_app
from fupin.web.config import ServeConfig
from fupin.web.workbench import household as hh
from fupin.web.workbench.render import HERE

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy"
MINI = ROOT / "tests" / "fixtures" / "mini"
FIXTURES = ROOT / "tests" / "fixtures" / "workbench"
TOKEN = "workbench-page-token-0123456789"
DOCUMENTS = (ROOT.parent / "shared" / "seeds").is_dir()   # the pack's cited documents installed

PAGES = {"/": ("扶贫政策工作台", "Poverty-alleviation policy workbench"),
         "/policy": ("按名称或标签搜索规则和参数", "Search rules and parameters by name or label"),
         "/policy?variant=anhui-2020": ("变体中改变的规则和参数", "Rules and parameters the variant changes"),
         "/policy?q=收入": ("匹配结果", "Matches"),
         "/household": ("预估当年人均纯收入", "estimated per-capita net income this year"),
         "/dataset": ("数据文件（Parquet、CSV、xlsx；CSV 可为 GBK 编码）", "Data file (Parquet, CSV, xlsx; CSV may be GBK)"),
         "/impact": ("修改后的规则", "Edited rules (optional)"),
         "/edit": ("运行该文件的测试", "Run this file's tests"),
         "/login": ("访问令牌", "Access token")}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(ServeConfig(policy=str(POLICY), work_dir=str(tmp_path_factory.mktemp("work"))))
    with TestClient(app) as c:
        yield c


@pytest.fixture(autouse=True)
def chinese(request):
    """Each test starts in the default language (a page test leaves its cookie behind)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


def example(n: int = 0) -> dict:
    return yaml.safe_load((ROOT / "examples" / "households.yaml").read_text(encoding="utf-8"))[n]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_in_both_languages(client, path, lang):
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}lang={lang}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert PAGES[path][0 if lang == "zh" else 1] in html.unescape(r.text)
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in r.text
    assert r.cookies.get("fupin_lang") == lang or client.cookies.get("fupin_lang") == lang
    # every form control has a label (a <label for> naming its id, or aria-label)
    ids = set(re.findall(r'<label for="([^"]+)"', r.text))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", r.text):
        if 'type="hidden"' in tag:
            continue
        ident = re.search(r'id="([^"]+)"', tag)
        assert "aria-label=" in tag or (ident and ident.group(1) in ids), tag


def test_chinese_by_default_and_the_language_cookie(tmp_path):
    app = create_app(ServeConfig(policy=str(MINI), work_dir=str(tmp_path)))
    with TestClient(app) as c:
        assert "规则编辑" in c.get("/", headers={"Accept-Language": "en-US"}).text   # the browser's locale is not asked
        c.get("/policy?lang=en")
        page = c.get("/household").text
        assert "Household" in page and '<a class="lang" href="/household?lang=zh"' in page


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action|formaction)="([^"]*)"', html)


def test_no_external_url_in_any_page_or_asset(client):
    for path in PAGES:
        page = client.get(path).text
        for link in _links(page):
            parts = urlsplit(link.replace("&amp;", "&"))
            assert not parts.scheme and not parts.netloc, (path, link)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    for asset in (HERE / "static").iterdir():
        text = asset.read_text(encoding="utf-8")
        assert not re.search(r"https?://|url\(\s*['\"]?//", text), asset.name
        assert client.get(f"/static/wb/{asset.name}").status_code == 200
    assert "fupin.web.workbench" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_token_login_sets_a_strict_httponly_cookie(tmp_path):
    app = create_app(ServeConfig(policy=str(MINI), token=TOKEN, work_dir=str(tmp_path)))
    with TestClient(app) as c:
        assert c.get("/policy").status_code == 401
        assert c.get("/static/wb/workbench.css").status_code == 200
        assert c.get("/login").status_code == 200
        wrong = c.post("/login", data={"token": "nope", "next": "/policy"})
        assert wrong.status_code == 401 and "令牌不对" in wrong.text
        r = c.post("/login", data={"token": TOKEN, "next": "//elsewhere.example/x"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert "fupin_token=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.get("/policy").status_code == 200


# --- the policy as a document

def test_policy_document_cites_quotes_and_timelines(client):
    page = client.get("/policy?file=aid/medical.yaml").text
    assert 'id="param-medical_relief_share_dibao"' in page
    assert "60%" in page and "80%" in page and "2014-01-01" in page and '<svg class="timeline"' in page
    assert "来源 003:172" in page
    if DOCUMENTS:
        assert '<p class="quote">' in page
    else:
        assert "本机没有该文件的原文" in page
    found = client.get("/policy?q=监测等级").text
    assert 'id="rule-monitoring_tier"' in found and 'id="rule-workers"' not in found
    side = client.get("/policy?variant=anhui-2020&lang=en").text
    assert 'id="param-public_welfare_job_pay"' in side and "gap:" in side


# --- a household

def test_household_form_is_made_from_the_declarations(client):
    from fupin.engine.api import load_policy

    checked = load_policy(POLICY).program().checked
    page = client.get("/household").text
    for name, f in checked.entities["household"].fields.items():
        if f.type.kind == "list":
            assert f'name="has:{name}"' in page
        else:
            assert f'name="f:{name}"' in page
    for name, f in checked.entities["member"].fields.items():
        assert f'name="c:members:0:{name}"' in page
    assert '<option value="exited">已脱贫</option>' in page          # enum values with their labels


def test_household_decision_reasons_whatif_and_permalink(client):
    facts = example(0)
    page = client.get("/household", params={"f": hh.pack(facts)}).text
    assert "监测等级（monitoring_tier） = 红色" in page
    assert "预估当年人均纯收入 = 4,999 元" in page
    assert "class=\"apply-whatif\"" in page and "4999 → 5000" in page
    link = re.search(r'<a class="permalink" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    again = client.get(link).text
    assert "监测等级（monitoring_tier） = 红色" in again


def _form(facts: dict, output: str = "monitoring_tier") -> dict:
    from fupin.engine.api import load_policy

    spec = hh.entity_form(load_policy(POLICY).program().checked, "household", "zh")
    return {**hh.form_values(spec, facts), "has:members": "1", "output": output}


def test_fragment_follows_a_changed_fact_and_reports_bad_ones(client):
    data = _form(example(0))
    assert "= 红色" in client.post("/household/fragment", data=data).text
    assert "= 黄色" in client.post("/household/fragment", data={**data, "f:income_per_capita": "5000"}).text
    en = client.post("/household/fragment?lang=en", data={**data, "f:income_per_capita": "10000"}).text
    assert "= green" in en
    bad = client.post("/household/fragment", data={**data, "f:income_per_capita": "四千"}).text
    assert "E802" in bad and "income_per_capita" in bad


def test_record_download_loads_back(client):
    data = _form(example(0))
    record = client.post("/household/record", data=data)
    assert record.status_code == 200 and "attachment" in record.headers["content-disposition"]
    page = client.post("/household/load", files={"file": ("decision.json", record.content)}).text
    assert "监测等级（monitoring_tier） = 红色" in page
    tampered = record.text.replace('"income_per_capita": 4999', '"income_per_capita": 5999')
    assert "E842" in client.post("/household/load", files={"file": ("d.json", tampered.encode())}).text


def test_load_a_household_from_a_facts_file(client):
    text = (ROOT / "examples" / "households.yaml").read_bytes()
    page = client.post("/household/load", files={"file": ("households.yaml", text)}, data={"id": "HH02"}).text
    assert 'value="HH02"' in page and "农户 HH02" in page
    missing = client.post("/household/load", files={"file": ("households.yaml", text)}, data={"id": "NOPE"}).text
    assert "文件中没有户编号 NOPE</pre>" in missing
    typo = client.post("/household/load", files={"file": ("households.yaml", text)}, data={"id": "HHO2"}).text
    assert "文件中没有户编号 HHO2（是否想找 HH02" in typo


# --- dataset and impact jobs

def _finish(client, location: str) -> str:
    ident = location.rsplit("/", 1)[1]
    for _ in range(300):
        state = client.get(f"/jobs/{ident}/status").json()
        if state["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    return client.get(location).text


def _upload(client, path="/dataset", data=None):
    files = {"file": ("户.csv", (FIXTURES / "households_gbk.csv").read_bytes()),
             "children": ("成员.csv", (FIXTURES / "members_gbk.csv").read_bytes())}
    r = client.post(path, files=files, data=data or {}, follow_redirects=False)
    assert r.status_code == 303
    return r.headers["location"]


def test_gbk_dataset_charts_link_to_households_and_explanations(client):
    location = _upload(client)
    page = _finish(client, location)
    assert "输入 40 行 = 输出 39 行 + 隔离 1 行" in page
    assert "红旗村" in page and "<svg" in page and "不详" in page            # GBK decoded; quarantine reason
    bar = re.search(r'<a href="(/dataset/[^"]+/households\?[^"]*level=village_id[^"]*)"', page).group(1)
    listing = client.get(bar.replace("&amp;", "&")).text
    household = re.search(r'<ul class="households"><li><a href="([^"]+)"', listing).group(1).replace("&amp;", "&")
    explained = client.get(household).text
    assert '<h2 class="decision">' in explained
    ident = location.rsplit("/", 1)[1]
    loader = client.get("/household").text                   # a row of the dataset, by its id
    assert f'<option value="{ident}"' in loader and 'id="load-key"' in loader
    row = client.get("/household", params={"job": ident, "key": "H000000001"}).text
    assert 'value="H000000001"' in row and '<h2 class="decision">' in row
    typo = client.get("/household", params={"job": ident, "key": "H00000000l"}).text  # l for 1
    assert "没有户编号 H00000000l（是否想找 H000000001、" in typo  # the look-alike first
    assert f'<a href="/household?job={ident}&amp;key=H000000001&amp;side=a">H000000001</a>' in typo
    none = client.get("/household", params={"job": ident, "key": "XYZ", "lang": "en"}).text
    assert "no row with id XYZ</pre>" in none and 'class="near"' not in none
    results = client.get(f"/jobs/{ident}/files/results")
    assert results.status_code == 200 and b"monitoring_tier" in results.content


def test_the_results_format_is_labelled_as_such(client):
    assert '<label for="format">结果文件格式</label>' in client.get("/dataset").text
    assert '<label for="format">Results file format</label>' in client.get("/dataset", params={"lang": "en"}).text
    client.get("/dataset", params={"lang": "zh"})


def test_dataset_page_names_groups_and_downloads_in_the_readers_language(client):
    """Group headings name the declared entity (village_id -> 行政村), not the column;
    downloads carry a label in the page's language beside the file name."""
    location = _upload(client)
    page = _finish(client, location)
    assert "<h4>按行政村分组</h4>" in page and "按village_id分组" not in page
    assert '>计算结果</a> <span class="muted"><code>results.csv</code>' in page
    assert ">隔离的行（含原因）</a>" in page
    english = client.get(location, params={"lang": "en"}).text
    client.get(location, params={"lang": "zh"})                 # the cookie back to Chinese
    assert "<h4>By administrative village</h4>" in english and ">Results</a>" in english
    assert "Monetary" not in english and "<h4>按" not in english


def test_a_malformed_upload_says_why(client):
    r = client.post("/dataset", files={"file": ("notes.txt", b"hello")}, follow_redirects=False)
    page = client.get(r.headers["location"]).text
    assert "上传的文件应为" in page
    r = client.post("/dataset", files={"file": ("bad.csv", b"\xff\xfe\x00garbage,,\n\x00\x01")}, follow_redirects=False)
    page = _finish(client, r.headers["location"])
    assert 'class="error"' in page or "隔离" in page


def test_impact_of_a_zip_of_edited_files_explains_side_b_with_the_edit(client):
    """A zip holding one edited file (the red line raised) is setting B: the page names the
    edited file, and side B's explanation of a changed household uses the edited pack."""
    import io
    import zipfile

    text = (POLICY / "household" / "monitoring.yaml").read_text(encoding="utf-8")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("household/monitoring.yaml", text.replace("      2020-01-01: 5000\n", "      2020-01-01: 9000\n", 1))
    files = {"file": ("户.csv", (FIXTURES / "households_gbk.csv").read_bytes()),
             "children": ("成员.csv", (FIXTURES / "members_gbk.csv").read_bytes()),
             "edited": ("edit.zip", packed.getvalue())}
    r = client.post("/impact", files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = _finish(client, r.headers["location"])
    assert '<p class="edited-files">设置 B 中改过的文件: <code>household/monitoring.yaml</code></p>' in page
    assert 'class="changed"' in page
    b = re.search(r'href="(/household\?[^"]*side=b[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "9000" in client.get(b).text


def test_impact_of_a_variant_lists_changed_households_under_both(client):
    location = _upload(client, "/impact", {"variant_b": "anhui-2020"})
    page = _finish(client, location)
    assert "policy/base@2020-06-30 → policy/anhui-2020@2020-06-30" in page
    assert "<svg" in page and 'class="changed"' in page
    b = re.search(r'href="(/household\?[^"]*side=b[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "政策 anhui-2020" in client.get(b).text


def test_impact_of_an_edited_rule_file(client):
    dataset = _upload(client)
    _finish(client, dataset)
    text = (POLICY / "household" / "monitoring.yaml").read_text(encoding="utf-8").replace("2020-01-01: 5000", "2020-01-01: 6000", 1)
    r = client.post("/impact", data={"dataset": dataset.rsplit("/", 1)[1], "edited_path": "household/monitoring.yaml"},
                    files={"edited": ("monitoring.yaml", text.encode("utf-8"))}, follow_redirects=False)
    page = _finish(client, r.headers["location"])
    assert "monitoring_red_income_line" in page
    a = re.search(r'href="(/household\?[^"]*side=a[^"]*)"', page)
    assert a is not None


# --- the rule editor

def test_editor_check_locates_a_typo(client):
    text = (POLICY / "household" / "monitoring.yaml").read_text(encoding="utf-8")
    line = text.splitlines().index("    expr: risk_event 或 非 guarantees_met") + 1
    r = client.post("/edit/check", json={"file": "household/monitoring.yaml", "text": text.replace("risk_event 或", "risk_evnt 或")})
    errors = [d for d in r.json()["diagnostics"] if d["severity"] == "error"]
    assert [(d["code"], d["line"]) for d in errors] == [("E301", line)]
    clean = client.post("/edit/check", json={"file": "household/monitoring.yaml", "text": text}).json()
    assert clean["errors"] == 0
    assert client.post("/edit/check", json={"file": "../secrets.yaml", "text": ""}).status_code == 422


def test_editor_download_and_save_only_with_allow_edit(client, tmp_path):
    r = client.post("/edit/download", data={"file": "household/monitoring.yaml", "text": "a: 1\n"})
    assert r.text == "a: 1\n" and "attachment" in r.headers["content-disposition"]
    refused = client.post("/edit/save?lang=en", json={"file": "household/monitoring.yaml", "text": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "E880"
    assert "cannot save: the service was started without --allow-edit" in refused.json()["detail"]
    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    app = create_app(ServeConfig(policy=str(pack), allow_edit=True, work_dir=str(tmp_path / "work")))
    with TestClient(app) as c:
        text = (pack / "rules.yaml").read_text(encoding="utf-8")
        before = c.get("/healthz").json()["revision"]
        bad = c.post("/edit/save", json={"file": "rules.yaml", "text": text.replace("red_line", "red_lin", 1)})
        assert bad.status_code == 422 and bad.json()["code"] == "E881"
        assert (pack / "rules.yaml").read_text(encoding="utf-8") == text
        edited = text.replace("劳动力人数", "劳动力人数（人）")
        ok = c.post("/edit/save", json={"file": "rules.yaml", "text": edited})
        assert ok.status_code == 200 and ok.json()["reloaded"] is True
        assert (pack / "rules.yaml").read_text(encoding="utf-8") == edited
        assert c.get("/healthz").json()["revision"] != before
        assert "劳动力人数（人）" in c.get("/policy?q=workers").text


def test_editor_runs_the_files_tests(tmp_path):
    app = create_app(ServeConfig(policy=str(MINI), work_dir=str(tmp_path)))
    with TestClient(app) as c:
        text = (MINI / "rules.yaml").read_text(encoding="utf-8")
        report = c.post("/edit/test", json={"file": "rules.yaml", "text": text}).json()
        assert report["passed"] is True and report["files"] == ["cases.yaml"]
        broken = c.post("/edit/test", json={"file": "rules.yaml", "text": text.replace("< 5000", "< 4000", 1)}).json()
        assert broken["passed"] is False
