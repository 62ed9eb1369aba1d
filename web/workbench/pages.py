"""The routes of the home, login, policy and household pages."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...dsl.errors import FupinError
from .. import deps
from ..security import COOKIE as TOKEN_COOKIE, token_ok
from ..state import Loaded
from . import household as hh
from . import policydoc
from .i18n import page_lang, pick
from .render import fragment, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    return render(request, "index.html", "/")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", "/login", next=_local(next), error=False)


@router.post("/login")
async def login(request: Request):
    """Check the token and keep it in an HttpOnly, SameSite=Strict cookie."""
    form = await request.form()
    token, target = str(form.get("token") or ""), _local(str(form.get("next") or "/"))
    expected = request.app.state.config.token
    if expected is not None and not token_ok(expected, token):
        return render(request, "login.html", "/login", status=401, next=target, error=True)
    response = RedirectResponse(target, status_code=303)
    if expected is not None:
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def _local(target: str) -> str:
    """A redirect target inside this site (never another host)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


# --- the policy as a document

@router.get("/policy", response_class=HTMLResponse)
def policy_page(request: Request, q: str = "", file: str = "", variant: str = "",
                loaded: Loaded = Depends(deps.snapshot)):
    lang = page_lang(request)
    policy = loaded.policy
    root = Path(policy.source.root)
    base = policy.program().checked
    every = policydoc.items(base, root, lang)
    grouped = policydoc.by_file(every)
    files = [(f, len(v)) for f, v in grouped.items()]
    file = file if file in grouped else (files[0][0] if files else "")
    variants = [{"name": v, "label": _variant_label(policy, v, lang)} for v in policy.variants if v != "base"]
    view = None
    if variant in policy.variants and variant != "base":
        view = _variant_view(policy, variant, root, lang, every)
    found = [i for i in every if policydoc.matches(i, q)] if q else grouped.get(file, [])
    return render(request, "policy.html", "/policy", q=q, file=file, files=files, found=found,
                  variants=variants, variant=variant, variant_view=view)


def _variant_label(policy, name: str, lang: str) -> str:
    labels = policy.program(name).checked.variant_labels
    return pick(labels, lang) or name


def _variant_view(policy, name: str, root: Path, lang: str, base_items: list) -> dict:
    checked = policy.program(name).checked
    rules, params = policydoc.changed(policy.program().checked, checked)
    mine = {(i.kind, i.name): i for i in policydoc.items(checked, root, lang)}
    base = {(i.kind, i.name): i for i in base_items}
    pairs = [(base.get(k), mine[k]) for k in [("rule", n) for n in rules] + [("param", n) for n in params] if k in mine]
    return {"name": name, "label": _variant_label(policy, name, lang), "pairs": pairs}


# --- a household

def _settings(policy, on: str | None, variant: str | None):
    variant = variant if variant in policy.variants else None
    on = on or policy.default_date(variant)
    return (on.isoformat() if hasattr(on, "isoformat") else on), variant


@router.get("/household", response_class=HTMLResponse)
def household_page(request: Request, f: str = "", on: str = "", variant: str = "", output: str = "",
                   job: str = "", key: str = "", side: str = "a", loaded: Loaded = Depends(deps.snapshot)):
    """The form (empty, from a permalink ``f=…``, or a dataset job's row), and the
    decisions when there are facts."""
    policy, facts, problem = loaded.policy, {}, None
    if f:
        facts = hh.unpack(f) or {}
    elif job and key:
        from .jobpages import job_household

        facts, on, variant, policy, problem, near = job_household(request, loaded, job, key, side, on, variant)
        return _household(request, policy, facts, on, variant, output, evaluate=bool(facts), problem=problem,
                          job=job, key=key, side=side, near=near)
    return _household(request, policy, facts, on, variant, output, evaluate=bool(facts), problem=problem,
                      job=job, key=key, side=side)


@router.post("/household", response_class=HTMLResponse)
async def household_post(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    form = await request.form()
    policy = _policy_of(request, loaded, form)
    variant, on, output = str(form.get("variant") or ""), str(form.get("on") or ""), str(form.get("output") or "")
    spec = hh.entity_form(policy.program(variant if variant in policy.variants else None).checked,
                          policy.entity(None), page_lang(request))
    facts = hh.facts_from_form(spec, form)
    rows = None
    if form.get("action") == "add":
        rows = hh.children_count(spec, facts)
        for name in rows:
            rows[name] += 1
    return _household(request, policy, facts, on, variant, output, evaluate=form.get("action") != "add", rows=rows,
                      job=str(form.get("job") or ""), side=str(form.get("side") or "a"))


def _policy_of(request: Request, loaded: Loaded, form):
    """The policy a household form evaluates with: the served pack, or side b of the
    impact job it was opened from (the pack with an uploaded edited file)."""
    job, side = str(form.get("job") or ""), str(form.get("side") or "a")
    if job and side == "b":
        from .jobpages import side_policy

        return side_policy(loaded, request.app.state.jobs.get(job), side)
    return loaded.policy


@router.post("/household/fragment", response_class=HTMLResponse)
async def household_fragment(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    """The results part of the page for the form as it stands (the page's script swaps it
    in as a fact changes)."""
    form = await request.form()
    policy = _policy_of(request, loaded, form)
    variant, on, output = str(form.get("variant") or ""), str(form.get("on") or ""), str(form.get("output") or "")
    lang = page_lang(request)
    spec = hh.entity_form(policy.program(variant if variant in policy.variants else None).checked,
                          policy.entity(None), lang)
    facts = hh.facts_from_form(spec, form)
    context = _evaluated(policy, facts, on, variant, output, lang)
    return fragment(request, "_results.html", **context)


@router.post("/household/load", response_class=HTMLResponse)
async def household_load(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    """Load a household from an uploaded facts file (YAML/JSON, the entity with the given
    id or the first) or a decision record (``fupin explain --format json``)."""
    import tempfile

    from ...engine.facts.read import FactsFile

    form = await request.form()
    upload, ident = form.get("file"), str(form.get("id") or "").strip() or None
    policy, lang = loaded.policy, page_lang(request)
    data = await upload.read() if upload is not None and hasattr(upload, "read") else b""
    limit = request.app.state.config.limits.body_bytes
    if not data or len(data) > limit:
        return _household(request, policy, {}, "", "", "", evaluate=False,
                          problem=_message(lang, "没有上传文件或文件太大", "no file uploaded, or too large"))
    suffix = Path(str(getattr(upload, "filename", "") or "")).suffix.lower()
    suffix = suffix if suffix in (".yaml", ".yml", ".json") else ".yaml"
    on = variant = output = ""
    with tempfile.TemporaryDirectory(prefix="fupin-load-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            if _is_record(data):
                got = policy.read_record(str(path))
                facts, output = got["facts"], got["output"] or ""
                on, variant = got["record"].on, got["record"].variant
            else:
                ffile = FactsFile(str(path))
                found = policy.find(ffile, ident)
                facts = found[0] if found else {}
                if not found:
                    near = nearest_keys(policy, ffile, ident)
                    return _household(request, policy, {}, "", "", "", evaluate=False,
                                      problem=_message(lang, f"文件中没有户编号 {ident}{guess_text(near, 'zh')}",
                                                       f"no household {ident} in the file{guess_text(near, 'en')}"))
        except FupinError as exc:
            return _household(request, policy, {}, "", "", "", evaluate=False,
                              problem="\n".join(d.render(lang) for d in exc.diagnostics[:10]).replace(tmp, ""))
    return _household(request, policy, facts if isinstance(facts, dict) else {}, on, variant, output, evaluate=True)


def _is_record(data: bytes) -> bool:
    head = data[:4096].decode("utf-8", "replace")
    return head.lstrip().startswith("{") and '"record"' in data.decode("utf-8", "replace")


def _message(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


@router.post("/household/record")
async def household_record(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    """The decision record of the form's household (what ``fupin explain --format json``
    writes; ``fupin explain --record`` and this page's loader read it back)."""
    from ...engine.reports.jsonout import dumps

    form = await request.form()
    policy = _policy_of(request, loaded, form)
    variant, on, output = str(form.get("variant") or ""), str(form.get("on") or ""), str(form.get("output") or "")
    on, variant = _settings(policy, on, variant)
    spec = hh.entity_form(policy.program(variant).checked, policy.entity(None), page_lang(request))
    facts = hh.facts_from_form(spec, form)
    output = output if output in policy.program(variant).checked.rules else _default_output(policy, variant)
    result = policy.evaluate(facts, on=on, variant=variant, only=[output], trace=True)
    body = {**result.trace.model_dump(mode="python", by_alias=True), "facts": facts}
    name = f"decision-{policy.key_of(facts) or 'record'}-{output}.json"
    return Response(dumps(body), media_type="application/json",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _default_output(policy, variant) -> str:
    checked = policy.program(variant).checked
    entity = policy.entity(None, variant)
    report = checked.entities[entity].report
    if report is not None and report.count:
        return report.count[0]
    return next(n for n, r in checked.rules.items() if r.entity == entity and not r.internal)


def _evaluated(policy, facts: dict, on: str, variant: str, output: str, lang: str) -> dict:
    """Decisions, the explanation of ``output`` and its what-if answers (or the facts'
    diagnostics), for the results part of the page."""
    on, variant = _settings(policy, on or None, variant)
    checked = policy.program(variant).checked
    entity = policy.entity(None, variant)
    output = output if output in checked.rules and checked.rules[output].entity == entity \
        else _default_output(policy, variant)
    try:
        result = policy.evaluate(facts, on=on, variant=variant, trace=True)
    except FupinError as exc:
        return {"invalid": [d.to_json(lang) for d in exc.diagnostics], "output": output, "decisions": [],
                "explanation": None, "whatif": [], "permalink": ""}
    whatif = []
    try:
        whatif = hh.alternatives(policy.what_if(facts, output, on=on, variant=variant), lang)
    except FupinError:
        whatif = []
    query = {"f": hh.pack(facts), "on": on, "output": output, **({"variant": variant} if variant else {}),
             "lang": lang}
    return {"invalid": [], "output": output, "decisions": hh.decisions(result, checked, entity, lang),
            "explanation": hh.explanation(result, output, lang), "whatif": whatif,
            "permalink": "/household?" + urlencode(query), "record": result.record.model_dump() if result.record else {}}


def nearest_keys(policy, ffile, ident) -> list:
    """The keys of a facts file's entities closest to a mistyped ``ident`` (``HH1O``: ``HH10``)."""
    from ...engine.facts.names import closest_ids

    keys = [k for k in (policy.key_of(raw, None, None) for raw, _ in ffile.items) if k is not None]
    return closest_ids(str(ident), keys)


def guess_text(near: list, lang: str) -> str:
    """A did-you-mean after "no household …", or nothing when no id is close."""
    if not near:
        return ""
    return f"（是否想找 {'、'.join(near)}？）" if lang == "zh" else f" (did you mean {', '.join(near)}?)"


def _household(request: Request, policy, facts: dict, on, variant, output, evaluate: bool, rows=None,
               problem: str | None = None, job: str = "", key: str = "", side: str = "a", near=()):
    lang = page_lang(request)
    on, variant = _settings(policy, on or None, variant or None)
    checked = policy.program(variant).checked
    spec = hh.entity_form(checked, policy.entity(None, variant), lang)
    context = _evaluated(policy, facts, on, variant, output, lang) if evaluate else \
        {"invalid": [], "output": output or _default_output(policy, variant), "decisions": [], "explanation": None,
         "whatif": [], "permalink": ""}
    variants = [{"name": v, "label": _variant_label(policy, v, lang) if v != "base" else None} for v in policy.variants]
    return render(request, "household.html", "/household", form=spec, values=hh.form_values(spec, facts),
                  rows=rows or hh.children_count(spec, facts), on=on, variant=variant or "", variants=variants,
                  outputs=[(n, pick(r.labels, lang) or n) for n, r in checked.rules.items()
                           if r.entity == spec.entity and not r.internal],
                  problem=problem, job=job, side=side, key=key, near=list(near),
                  datasets=[j for j in request.app.state.jobs.all() if j.kind == "batch" and j.status == "succeeded"][:10],
                  **context)
