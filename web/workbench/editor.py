"""The rule editor: open a rule file of the served pack, check it as it is typed, run its
tests, download it, and (only with ``fupin serve --allow-edit``) save it into the pack.

Checking, testing and saving are web/checking.py's; this module only routes them.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .. import deps
from ..checking import check_file, pack_path, rule_files, run_file_tests, save_file
from ..problems import Problem, at
from ..state import Loaded
from .i18n import page_lang
from .render import render

router = APIRouter(include_in_schema=False)


@router.get("/edit", response_class=HTMLResponse)
def edit_page(request: Request, file: str = "", loaded: Loaded = Depends(deps.snapshot)):
    root = Path(loaded.policy.source.root)
    files = rule_files(root)
    file = file if file in files else (files[0] if files else "")
    text = pack_path(root, file).read_text(encoding="utf-8") if file else ""
    lang = page_lang(request)
    report = check_file(root, file, text).to_json(lang) if file else None
    mine = [d for d in (report or {}).get("diagnostics", []) if d.get("file") == file]
    return render(request, "edit.html", "/edit", files=files, file=file, text=text, diagnostics=mine,
                  allow_edit=request.app.state.config.allow_edit)


async def _body(request: Request) -> tuple[str, str]:
    data = await request.json()
    if not isinstance(data, dict) or not isinstance(data.get("file"), str) or not isinstance(data.get("text"), str):
        from ...dsl.errors import Bilingual
        raise Problem(at("<request>", "E863", detail=Bilingual("请求应为 {file, text}", "the body must be {file, text}")), 422)
    return data["file"], data["text"]


@router.post("/edit/check")
async def edit_check(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    """The checker's diagnostics for the pack with this file as typed: those of the file
    (``diagnostics``) and how many the edit causes elsewhere (``elsewhere``)."""
    file, text = await _body(request)
    lang = page_lang(request)
    report = await run_in_threadpool(check_file, Path(loaded.policy.source.root), file, text)
    data = report.to_json(lang)
    mine = [d for d in data["diagnostics"] if d.get("file") == data["file"]]
    others = [d for d in data["diagnostics"] if d.get("file") != data["file"] and d.get("severity") == "error"]
    return JSONResponse({**data, "diagnostics": mine, "elsewhere": others[:20]})


@router.post("/edit/test")
async def edit_test(request: Request, loaded: Loaded = Depends(deps.snapshot)):
    """Run the pack's cases that name a rule of this file, on the file as typed."""
    file, text = await _body(request)
    lang = page_lang(request)
    report = await run_in_threadpool(run_file_tests, Path(loaded.policy.source.root), file, text, lang)
    return JSONResponse(report.to_json())


@router.post("/edit/download")
async def edit_download(request: Request):
    """The text as a file (the page's form posts it; no server state is kept)."""
    form = await request.form()
    name = Path(str(form.get("file") or "rules.yaml")).name or "rules.yaml"
    return Response(str(form.get("text") or ""), media_type="application/x-yaml; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/edit/save")
async def edit_save(request: Request, served=Depends(deps.served)):
    """Write the file into the pack (E880 without --allow-edit, E881 while it has errors),
    then reload the served pack."""
    file, text = await _body(request)
    lang = page_lang(request)
    if not request.app.state.config.allow_edit:
        raise Problem(at("<request>", "E880"), 403)
    root = Path(served.current.policy.source.root)
    report = await run_in_threadpool(check_file, root, file, text)
    if report.errors:
        raise Problem(at("<request>", "E881", name=report.file, count=report.errors), 422)
    await run_in_threadpool(save_file, root, file, text)
    reloaded = await run_in_threadpool(served.reload, True)
    return JSONResponse({"saved": report.file, "reloaded": reloaded,
                         "revision": served.current.policy.revision, "lang": lang})
