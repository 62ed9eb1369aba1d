"""The dataset and impact pages: uploads become background jobs (web/runs.py), their
progress is polled, their results drawn as linked charts, their rows opened as households."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from ...dsl.errors import FupinError
from ...engine.batch.htmlreport import level_name
from .. import deps, runs
from ..jobs import Job, JobStore
from ..problems import Problem
from ..state import Loaded
from . import charts
from .i18n import page_lang, pick, words
from .render import render

router = APIRouter(include_in_schema=False)
LISTED = 500           # households listed for one bar
QUARANTINE_SHOWN = 200
ENCODINGS = ("", "utf-8", "gb18030", "gbk")


def _variant(policy, name) -> str | None:
    return name if name in policy.variants and name != "base" else None


def _checked_of(policy, variant):
    return policy.program(_variant(policy, variant)).checked


async def _save(request: Request, job: Job, form, field: str, stem: str) -> Path | None:
    upload = form.get(field)
    if upload is None or not getattr(upload, "filename", None):
        return None
    return await runs.save_upload(job, upload, stem, request.app.state.config.limits.upload_bytes)


def _settings_of(form, suffix: str = "") -> tuple:
    on = str(form.get(f"on{suffix}") or "").strip() or None
    variant = str(form.get(f"variant{suffix}") or "").strip() or None
    return on, variant


# --- dataset

@router.get("/dataset", response_class=HTMLResponse)
def dataset_page(request: Request, loaded: Loaded = Depends(deps.snapshot), store: JobStore = Depends(deps.jobs)):
    lang = page_lang(request)
    policy = loaded.policy
    return render(request, "dataset.html", "/dataset", jobs=[j for j in store.all() if j.kind == "batch"][:10],
                  variants=_variants(policy, lang), on=str(policy.default_date() or ""), encodings=ENCODINGS)


def _variants(policy, lang: str) -> list:
    return [{"name": v, "label": pick(policy.program(v).checked.variant_labels, lang) or v} for v in policy.variants]


@router.post("/dataset")
async def dataset_run(request: Request, loaded: Loaded = Depends(deps.snapshot), store: JobStore = Depends(deps.jobs)):
    """Upload a dataset (and a members file), start the batch job, go to its page."""
    form = await request.form()
    lang = page_lang(request)
    on, variant = _settings_of(form)
    job = store.create("batch")
    try:
        path, joins = await _inputs(request, job, form, loaded.policy)
        encoding = str(form.get("encoding") or "") or None
        job.meta.update(input=path.name, joins={k: v.name for k, v in joins.items()}, encoding=encoding)
        runs.start_batch(store, job, loaded.policy, path, on=on, variant=_variant(loaded.policy, variant),
                         joins=joins, encoding=encoding, fmt=_fmt(form), lang=lang)
    except (Problem, FupinError) as exc:
        return _failed(request, job, exc, "dataset")
    return RedirectResponse(f"/dataset/{job.id}", status_code=303)


def _fmt(form) -> str:
    fmt = str(form.get("format") or "csv")
    return fmt if fmt in runs.FORMATS else "csv"


async def _inputs(request: Request, job: Job, form, policy) -> tuple:
    """The uploaded dataset (required) and its children's file (optional, joined to the
    entity's first list field)."""
    path = await _save(request, job, form, "file", "input")
    if path is None:
        from ...dsl.errors import Bilingual
        from ..problems import at
        raise Problem(at("<request>", "E863", detail=Bilingual("没有上传数据文件", "no dataset was uploaded")), 422)
    joins = {}
    members = await _save(request, job, form, "children", "children")
    if members is not None:
        checked = policy.program().checked
        entity = policy.entity(None)
        lists = [n for n, f in checked.entities[entity].fields.items() if f.type.kind == "list"]
        if lists:
            joins[lists[0]] = members
    return path, joins


def _failed(request: Request, job: Job, exc, page: str):
    """A job refused before it started: the page again, with the diagnostics (the job
    is finished, so it expires like any other)."""
    import time

    job.status, job.diagnostics, job.finished = "failed", list(exc.diagnostics), time.time()
    job.save()
    return RedirectResponse(f"/{page}/{job.id}", status_code=303)


@router.get("/jobs/{ident}/status")
def job_status(ident: str, request: Request, store: JobStore = Depends(deps.jobs)):
    """Progress for the page's poll: status, rows done, rows in all (when known)."""
    job = store.get(ident)
    lang = page_lang(request)
    return JSONResponse({"status": job.status, "rows": job.rows, "total": job.total,
                         "diagnostics": [d.message(lang) for d in job.diagnostics]})


@router.get("/jobs/{ident}/files/{name}")
def job_file(ident: str, name: str, store: JobStore = Depends(deps.jobs)):
    job = store.get(ident)
    path = job.files.get(name)
    if path is None or not Path(path).is_file():
        from ...dsl.errors import Bilingual
        from ..problems import at
        raise Problem(at("<request>", "E867", kind=Bilingual("文件", "file"), name=name), 404)
    return FileResponse(path, filename=runs.safe_download(f"{job.kind}-{job.id}-{Path(path).name}"))


@router.get("/dataset/{ident}", response_class=HTMLResponse)
def dataset_job(ident: str, request: Request, loaded: Loaded = Depends(deps.snapshot),
                store: JobStore = Depends(deps.jobs)):
    job = store.get(ident)
    lang = page_lang(request)
    view = None
    if job.status == "succeeded" and "summary" in job.result:
        view = summary_view(job, loaded.policy, lang)
    return render(request, "job.html", "/dataset", job=job, view=view, lines=job.result.get("lines", []),
                  quarantine=_quarantine(job), problems=[d.message(lang) for d in job.diagnostics])


def value_label(checked, output: str, key: str, lang: str) -> str:
    """A counted value as the page shows it (an enum's label, 是/否, 未知)."""
    t = words(lang)
    if key in ("unknown", "error"):
        return t("unknown") if key == "unknown" else ("错误" if lang == "zh" else "error")
    rule = checked.rules.get(output)
    if rule is not None and rule.type.kind == "bool":
        return t("yes") if key == "true" else t("no")
    if rule is not None and rule.type.kind == "enum" and rule.type.name in checked.enums:
        return pick(checked.enums[rule.type.name].values.get(key), lang) or key
    return key


def summary_view(job: Job, policy, lang: str) -> dict:
    """Charts and tables of a finished batch: counts per output (whole and per group,
    each bar linked to its households), money totals, incidence."""
    summary = job.result["summary"]
    checked = _checked_of(policy, job.meta.get("variant"))
    t = words(lang)

    def link(output, value, level=None, group=None):
        query = {"output": output, "value": value, **({"level": level, "group": group} if level else {})}
        return f"/dataset/{job.id}/households?{urlencode(query)}"

    outputs = []
    for output, counter in summary.get("counts", {}).items():
        label = pick(checked.rules[output].labels, lang) if output in checked.rules else output
        values = [(k, value_label(checked, output, k, lang)) for k, v in counter.items() if v or k not in ("unknown", "error")]
        order = [k for k, _ in values]
        whole = charts.bars([(value_label(checked, output, k, lang), v, str(v), link(output, k),
                              charts.colour(order.index(k))) for k, v in counter.items() if v], label)
        levels = []
        for level, groups in summary.get("levels", {}).items():
            rows = [(g or "∅", {k: (n, link(output, k, level, g)) for k, n in data["counts"].get(output, {}).items()})
                    for g, data in sorted(groups.items())[:40]]
            named = level_name(checked, level, lang)
            levels.append({"level": named, "svg": charts.stacked(rows, values, f"{label} · {named}")})
        outputs.append({"name": output, "label": label, "whole": whole, "levels": levels})
    totals = [(pick(checked.rules[n].labels, lang) if n in checked.rules else n, n, v["yuan"], v["decided"])
              for n, v in summary.get("totals", {}).items()]
    money = []
    for level, groups in summary.get("levels", {}).items():
        for name, _ in [(n, v) for n, v in summary.get("totals", {}).items() if float(v["yuan"])][:4]:
            items = sorted(((g or "∅", float(d["totals"][name]["yuan"]), d["totals"][name]["yuan"], None)
                            for g, d in groups.items() if name in d.get("totals", {})), key=lambda x: -x[1])[:20]
            label = pick(checked.rules[name].labels, lang) if name in checked.rules else name
            money.append({"title": f"{label} · {level_name(checked, level, lang)}", "svg": charts.bars(items, label, " 元" if lang == "zh" else " yuan")})
    incidence = []
    for level, groups in summary.get("levels", {}).items():
        for g, d in sorted(groups.items()):
            if d.get("incidence"):
                inc = d["incidence"]
                incidence.append((level_name(checked, level, lang), g or "∅", inc.get("counted"), inc.get("people"), inc.get("percent")))
    report = checked.entities[summary["entity"]].report
    inc_label = pick(report.incidence.labels, lang) if report is not None and report.incidence else t("incidence")
    return {"rows": summary.get("rows"), "outputs": outputs, "totals": totals, "money": money,
            "incidence": incidence, "incidence_label": inc_label}


def _quarantine(job: Job) -> list:
    path = job.files.get("quarantine")
    if path is None or not Path(path).is_file():
        return []
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows[:QUARANTINE_SHOWN]


def _text(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def result_rows(path: Path, key: str, output: str, value: str, level: str | None, group: str | None,
                limit: int = LISTED) -> tuple[list, int]:
    """The keys of the results' rows whose ``output`` is ``value`` (and ``level`` is
    ``group``): the first ``limit`` of them, and how many there are."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pq.read_table(str(path), columns=[c for c in {key, output, level} if c])
    elif suffix == ".csv":
        names = pcsv.open_csv(str(path)).schema.names
        table = pcsv.read_csv(str(path), convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True,
            include_columns=[c for c in names if c in {key, output, level}]))
    else:
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        head = [str(h) for h in sheet[0]]
        table = pa.table({h: [_text(r[i]) if r[i] != "" else None for r in sheet[1:]] for i, h in enumerate(head)
                          if h in {key, output, level}})
    keys, found = [], 0
    columns = {n: table.column(n).to_pylist() for n in table.column_names}
    for i in range(table.num_rows):
        v = _text(columns.get(output, [None] * table.num_rows)[i]).lower() if output in columns else None
        if v != value.lower():
            continue
        if level and _text(columns.get(level, [None] * table.num_rows)[i]) != (group if group != "∅" else "unknown"):
            continue
        found += 1
        if len(keys) < limit:
            keys.append(columns[key][i])
    return keys, found


@router.get("/dataset/{ident}/households", response_class=HTMLResponse)
def dataset_households(ident: str, request: Request, output: str, value: str, level: str = "", group: str = "",
                       loaded: Loaded = Depends(deps.snapshot), store: JobStore = Depends(deps.jobs)):
    """The households behind one bar, each linked to its explanation."""
    job = store.get(ident)
    lang = page_lang(request)
    checked = _checked_of(loaded.policy, job.meta.get("variant"))
    entity = checked.entities[job.meta.get("entity") or loaded.policy.entity(None)]
    keys, found = ([], 0)
    if job.files.get("results"):
        keys, found = result_rows(Path(job.files["results"]), entity.key, output, value, level or None, group or None)
    links = [(k, "/household?" + urlencode({"job": job.id, "key": k, "output": output})) for k in keys if k is not None]
    label = pick(checked.rules[output].labels, lang) if output in checked.rules else output
    title = words(lang)("households_in", group=group or ("全部" if lang == "zh" else "all"),
                        value=f"{label} = {value_label(checked, output, value, lang)}")
    return render(request, "households.html", "/dataset", job=job, title=title, links=links, found=found)


def _record(policy, folder: Path, meta: dict, key: str, on, variant):
    """The raw facts (children joined) of the row ``key`` of a job's uploaded dataset."""
    from ...engine import batch as eb
    from ...engine.batch.explain import find_record

    run = eb.Job(policy, meta.get("entity"), _variant(policy, variant), on, None, "zh", True)
    joins = {k: str(folder / v) for k, v in (meta.get("joins") or {}).items()}
    source = eb.Source(str(folder / meta["input"]), run.layout, joins, 32_768, encoding=meta.get("encoding"),
                       kept=run.carried)
    return find_record(source, key), source


_EDITED: dict = {}   # job id → the pack with its uploaded edit (side b of an impact job)
_EDITED_FILE = "edited.upload"  # the upload as received, in the job's folder


def side_policy(loaded: Loaded, job: Job, side: str):
    """The policy a side of a job evaluates with: the served pack, or (side b of an
    impact job with an uploaded edit) the pack with the edited files."""
    upload = job.meta.get("edited_upload")
    if side != "b" or not upload:
        return loaded.policy
    if job.id not in _EDITED:
        from ...engine.api import load_policy
        from ..editedpack import edited_texts

        root = Path(loaded.policy.source.root)
        texts = edited_texts(root, upload["filename"], (job.folder / _EDITED_FILE).read_bytes(), upload["path"])
        _EDITED.clear()  # one at a time: a pack is large
        _EDITED[job.id] = load_policy(root, texts)
    return _EDITED[job.id]


def job_household(request: Request, loaded: Loaded, ident: str, key: str, side: str, on: str, variant: str):
    """(facts, on, variant, policy, problem, near) of a job's row for the household page;
    ``near``: the dataset's ids closest to a ``key`` it does not hold."""
    store = request.app.state.jobs
    job = store.get(ident)
    meta = job.meta
    if side == "b" and job.kind == "diff":
        on, variant = on or meta.get("vs_on"), variant or meta.get("vs_variant")
    else:
        on, variant = on or meta.get("on"), variant or meta.get("variant")
    variant = variant if variant != "base" else ""
    policy = side_policy(loaded, job, side)
    lang = page_lang(request)
    try:
        record, source = _record(policy, job.folder, meta, key, on, variant)
        if record is None:
            from ...engine.batch.explain import ids_of
            from ...engine.facts.names import closest_ids
            from .pages import guess_text

            near = closest_ids(str(key), ids_of(source))  # the dataset read again, on this path only
            return {}, on, variant, policy, (f"没有户编号 {key}" if lang == "zh" else f"no row with id {key}") \
                + guess_text(near, lang), near
    except FupinError as exc:
        return {}, on, variant, policy, "\n".join(d.render(lang) for d in exc.diagnostics[:5]), []
    return record, on, variant, policy, None, []


# --- impact

@router.get("/impact", response_class=HTMLResponse)
def impact_page(request: Request, loaded: Loaded = Depends(deps.snapshot), store: JobStore = Depends(deps.jobs)):
    from ..checking import rule_files

    lang = page_lang(request)
    policy = loaded.policy
    return render(request, "impact.html", "/impact", variants=_variants(policy, lang),
                  on=str(policy.default_date() or ""), encodings=ENCODINGS,
                  datasets=[j for j in store.all() if j.kind == "batch" and j.meta.get("input")][:10],
                  jobs=[j for j in store.all() if j.kind == "diff"][:10],
                  files=rule_files(Path(policy.source.root)))


@router.post("/impact")
async def impact_run(request: Request, loaded: Loaded = Depends(deps.snapshot), store: JobStore = Depends(deps.jobs)):
    """Compare a dataset under two settings (dates, variants, or an edited rule file)."""
    import shutil

    form = await request.form()
    lang = page_lang(request)
    policy = loaded.policy
    on, variant = _settings_of(form, "_a")
    vs_on, vs_variant = _settings_of(form, "_b")
    job = store.create("diff")
    try:
        reuse = str(form.get("dataset") or "")
        if reuse:
            earlier = store.get(reuse)
            path = job.folder / earlier.meta["input"]
            shutil.copy(earlier.folder / earlier.meta["input"], path)
            joins = {}
            for name, file in (earlier.meta.get("joins") or {}).items():
                shutil.copy(earlier.folder / file, job.folder / file)
                joins[name] = job.folder / file
            encoding = earlier.meta.get("encoding")
        else:
            path, joins = await _inputs(request, job, form, policy)
            encoding = str(form.get("encoding") or "") or None
        other = await _edited(request, job, form, policy)
        job.meta.update(input=path.name, joins={k: v.name for k, v in joins.items()}, encoding=encoding)
        runs.start_diff(store, job, policy, path, other=other, on=on, vs_on=vs_on, variant=_variant(policy, variant),
                        vs_variant=_variant(policy, vs_variant), joins=joins, encoding=encoding, fmt="csv", lang=lang)
    except (Problem, FupinError) as exc:
        return _failed(request, job, exc, "impact")
    return RedirectResponse(f"/impact/{job.id}", status_code=303)


async def _edited(request: Request, job: Job, form, policy):
    """The served pack with the uploaded edit: one rule file, or a zip of edited files
    (web/editedpack.py); None if nothing was uploaded. The upload is kept in the job's
    folder, so that side b's households can be explained later (``side_policy``)."""
    from ...engine.api import load_policy
    from ..editedpack import edited_texts

    upload = form.get("edited")
    if upload is None or not getattr(upload, "filename", None):
        return None
    data = await upload.read(request.app.state.config.limits.upload_bytes + 1)
    relpath = str(form.get("edited_path") or "")
    root = Path(policy.source.root)
    texts = edited_texts(root, upload.filename, data, relpath)
    (job.folder / _EDITED_FILE).write_bytes(data)
    job.meta["edited"] = ", ".join(Path(p).resolve().relative_to(root.resolve()).as_posix() for p in sorted(texts))
    job.meta["edited_upload"] = {"filename": upload.filename, "path": relpath}
    return load_policy(root, texts)


@router.get("/impact/{ident}", response_class=HTMLResponse)
def impact_job(ident: str, request: Request, loaded: Loaded = Depends(deps.snapshot),
               store: JobStore = Depends(deps.jobs)):
    job = store.get(ident)
    lang = page_lang(request)
    report, changed = "", []
    if job.status == "succeeded":
        report = _report_body(job)
        changed = _changed_rows(job, loaded.policy, lang)
    return render(request, "impact_job.html", "/impact", job=job, report=report, changed=changed,
                  lines=job.result.get("lines", []), problems=[d.message(lang) for d in job.diagnostics],
                  quarantine=_quarantine(job))


def _report_body(job: Job) -> str:
    """The diff report's body (heatmaps, money by group), without its own title, style
    and changed-rows table (the page lists those rows with links)."""
    path = job.files.get("report.html")
    if path is None or not Path(path).is_file():
        return ""
    html = Path(path).read_text(encoding="utf-8")
    body = html.split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    body = body.split("</h1>", 1)[-1]
    for marker in ("<h2>有变化的行", "<h2>Changed rows"):
        body = body.split(marker, 1)[0]
    return body


def _changed_rows(job: Job, policy, lang: str, limit: int = 200) -> list:
    """The first changed rows: key, what changed, and links to both explanations."""
    import csv

    path = job.files.get("changed")
    if path is None or not Path(path).is_file() or Path(path).suffix != ".csv":
        return []
    checked = _checked_of(policy, job.meta.get("variant"))
    key = checked.entities[job.meta.get("entity") or policy.entity(None)].key
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            names = [n.strip() for n in (row.get("changed") or "").split(",") if n.strip()]
            moves = [(pick(checked.rules[n].labels, lang) if n in checked.rules else n,
                      value_label(checked, n, row.get(f"{n}:before") or "unknown", lang),
                      value_label(checked, n, row.get(f"{n}:after") or "unknown", lang)) for n in names]
            first = names[0] if names else ""
            ident = row.get(key)
            out.append({"key": ident, "moves": moves, "because": row.get("because") or "",
                        "a": "/household?" + urlencode({"job": job.id, "key": ident, "side": "a", "output": first}),
                        "b": "/household?" + urlencode({"job": job.id, "key": ident, "side": "b", "output": first})})
            if len(out) >= limit:
                break
    return out
