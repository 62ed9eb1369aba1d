"""``POST /v1/evaluate``, ``/v1/explain``, ``/v1/whatif``: decisions over HTTP.

Each route reads its body (bodies.py), then hands the work to the bounded runner
(running.py): the Python API (:class:`fupin.engine.api.Policy`) does the deciding, this
module only shapes the answer.

Invalid facts: a request with one entity (``facts`` an object) whose facts are invalid is
a 422 problem with the located diagnostics; in a list, each invalid entity is answered
in its place with ``invalid`` (its diagnostics, located at ``body/facts/<i>/…``) and the
others are decided, as ``fupin eval`` does. An error in the call itself (an unknown
output, variant or entity, a bad date) is the same for every entity: 422 for the request.
"""
from __future__ import annotations

import dataclasses
import os
import threading

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...dsl.errors import Bilingual, Diagnostic, FupinError, Span
from ...engine.api import Evaluated, Policy, is_argument_error
from ...engine.reports import explain as explaining
from ...engine.reports.jsonout import dumps, plain_json
from ...engine.reports.record import log_line
from .. import deps
from ..config import ServeConfig
from ..problems import Problem, at, respond
from ..schemas import EvaluateRequest, ExplainRequest, WhatIfRequest
from ..state import Loaded
from . import context, metrics
from .bodies import Locator, bounded, options, read_json
from .openapi import body_of, answers

router = APIRouter(prefix="/v1", tags=["decisions"])
LOG_LOCK = threading.Lock()  # one request's decision-log lines at a time from the worker threads

# where an error in the call itself points in the body (they come located at <arguments>)
ARGUMENT_AT = {"E811": "only", "E812": "variant", "E302": "entity", "E814": "entity", "E804": "on",
               "E819": "on", "E840": "value"}


def body_lang(data, request: Request) -> str:
    """The body's ``lang`` when it names zh or en, else the request's (query, header, default)."""
    lang = data.get("lang") if isinstance(data, dict) else None
    return lang if lang in ("zh", "en") else deps.language(request)


def problem(exc: Exception, lang: str, request: Request) -> Response:
    """A Problem or FupinError as problem details in ``lang``, argument errors moved from
    ``<arguments>`` to the body member that gave them."""
    status = exc.status if isinstance(exc, Problem) else 422
    diags = [_in_body(d) for d in exc.diagnostics]
    return respond(diags, status, lang, request.url.path, getattr(exc, "headers", None))


def _in_body(d: Diagnostic) -> Diagnostic:
    if d.span.file == "<arguments>" and d.code in ARGUMENT_AT:
        return dataclasses.replace(d, span=Span(f"body/{ARGUMENT_AT[d.code]}", 0, 0))
    if d.span.file == "<facts>":
        return dataclasses.replace(d, span=Span("body/facts", 0, 0))
    return d


def decision(item: Evaluated, lang: str) -> dict:
    """One entity's answer: the ``fupin eval`` JSON (id, on, results, unknown, possible,
    errors, record, warnings — or ``invalid``), with the entity and, when traced, the trace."""
    out = item.to_dict(lang)
    result = item.result
    if result is None:
        return out
    out["entity"] = result.entity
    if result.errors:
        out["errors"] = {k: {"code": e.code, "message": e.message if lang == "zh" else e.message_en,
                             "location": e.location} for k, e in result.errors.items()}
    if result.trace is not None:
        out["trace"] = result.trace.model_dump(mode="python", by_alias=True)
    return out


def decide(policy: Policy, opts: EvaluateRequest, items: list, many: bool, log: str | None) -> list[Evaluated]:
    """Evaluate every entity (see the module docstring for invalid ones); log the decisions."""
    variant = opts.variant
    on = policy.as_of(opts.on, variant)
    entity = policy.entity(opts.entity, variant)
    if opts.only:
        policy.check_outputs(opts.only, entity, variant)
    out = []
    for i, raw in enumerate(items):
        key = policy.key_of(raw, entity, variant)
        try:
            result = policy.evaluate(raw, on=on, variant=variant, entity=entity, only=opts.only, trace=opts.trace,
                                     where=Locator(f"body/facts/{i}" if many else "body/facts"),
                                     allow_unknown_fields=opts.allow_unknown_fields)
        except FupinError as exc:
            if not many or is_argument_error(exc):
                raise
            out.append(Evaluated(raw, key, None, exc.diagnostics, on.isoformat()))
            continue
        out.append(Evaluated(raw, key, result, on=result.on))
    if log:
        write_log(log, out, policy.program(variant).checked)
    return out


def write_log(path: str, evaluated: list[Evaluated], checked) -> None:
    """Append a request's decision-log lines (reports/record.py ``log_line``: the record,
    the values, the facts with ``pii`` fields masked) in one ``write`` on an ``O_APPEND``
    file: the lines of one request stay together, whichever worker process writes them.
    The file is created readable by its owner only."""
    text = "".join(dumps(log_line(e.result, e.facts, checked), indent=None) + "\n"
                   for e in evaluated if e.result is not None)
    if not text:
        return
    data = text.encode("utf-8")
    with LOG_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)


def _json(data: dict) -> Response:
    return Response(dumps(data, indent=None), media_type="application/json")


@router.post("/evaluate", summary="评估一个或多个实体 / Evaluate one entity or a list",
             openapi_extra=body_of("EvaluateRequest"), responses=answers("EvaluateResponse"))
async def evaluate(request: Request, loaded: Loaded = Depends(context.snapshot),
                   config: ServeConfig = Depends(context.config), run=Depends(context.runner)):
    """The decisions on ``facts`` (an object or a list): results, unknowns, the decision
    record of each, the trace with ``trace: true``. An invalid entity of a list is answered
    with ``invalid`` in its place; a single invalid entity is a 422 problem."""
    data = await read_json(request)
    lang = body_lang(data, request)
    try:
        opts = options(EvaluateRequest, data)
        items = bounded(opts.facts, config.limits)
        many = isinstance(opts.facts, list)
        evaluated = await run.run(lambda: decide(loaded.policy, opts, items, many, config.decision_log))
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)
    metrics.evaluated(evaluated)
    first = next((e.result for e in evaluated if e.result is not None), None)
    policy = loaded.policy
    return _json({"policy_revision": policy.revision,
                  "entity": first.entity if first else policy.entity(opts.entity, opts.variant),
                  "on": evaluated[0].on if evaluated else policy.as_of(opts.on, opts.variant).isoformat(),
                  "variant": opts.variant or "base",
                  "decisions": [decision(e, lang) for e in evaluated]})


def _explained(policy: Policy, opts: ExplainRequest, lang: str, log: str | None) -> dict:
    """The explanation of one output: its value, the text, its parts, and the decision."""
    evaluated = decide(policy, _one(opts, [opts.output], True), [opts.facts], False, log)
    result = evaluated[0].result
    parts = explaining.parts(result, opts.output, lang) or {}
    parts.pop("node", None)
    return {"output": opts.output, "value": plain_json(result.values.get(opts.output)),
            "unknown": result.unknown.get(opts.output, []), "text": result.explain(opts.output, lang, opts.depth),
            "parts": parts, "decision": decision(evaluated[0], lang)}


def _one(opts, only, trace) -> EvaluateRequest:
    return EvaluateRequest(facts=opts.facts, entity=opts.entity, on=opts.on, variant=opts.variant,
                           only=only, trace=trace, allow_unknown_fields=opts.allow_unknown_fields)


@router.post("/explain", summary="解释一个输出 / Explain one output",
             openapi_extra=body_of("ExplainRequest"), responses=answers("ExplainResponse"))
async def explain(request: Request, loaded: Loaded = Depends(context.snapshot),
                  config: ServeConfig = Depends(context.config), run=Depends(context.runner)):
    """Why ``output`` has its value for these facts: the deciding facts, the rule and its
    cited lines (``text`` as ``fupin explain`` prints it, ``parts`` for other renderers),
    and the traced decision."""
    return await _one_entity_call(request, ExplainRequest, config, run,
                                  lambda opts, lang: _explained(loaded.policy, opts, lang, config.decision_log))


async def _one_entity_call(request: Request, model, config: ServeConfig, run, work):
    """Read a body of ``model`` about one entity (a list of facts is E863), bounded as
    evaluate's, and answer ``work(opts, lang)`` run by the bounded runner."""
    data = await read_json(request)
    lang = body_lang(data, request)
    try:
        opts = options(model, data)
        bounded(opts.facts, config.limits)
        if isinstance(opts.facts, list):
            raise Problem(_one_entity(), 422)
        out = await run.run(lambda: work(opts, lang))
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)
    metrics.count("evaluations", 1)
    return _json(out)


def _one_entity() -> Diagnostic:
    return at("body/facts", "E863", detail=Bilingual("这里只接受一个实体的事实（对象）", "one entity's facts (an object) only, here"))


def _what_if(policy: Policy, opts: WhatIfRequest, lang: str) -> dict:
    """The current value, then per wanted value the smallest fact changes giving it."""
    first = decide(policy, _one(opts, [opts.output], False), [opts.facts], False, None)[0].result
    answers = policy.what_if(opts.facts, opts.output, opts.value, on=opts.on, variant=opts.variant,
                             entity=opts.entity, max_changes=opts.max_changes,
                             allow_unknown_fields=opts.allow_unknown_fields)
    return {"output": opts.output, "value": plain_json(first.values.get(opts.output)),
            "unknown": first.unknown.get(opts.output, []),
            "answers": [{"value": plain_json(target), "alternatives": [a.model_dump() for a in alts]}
                        for target, alts in answers.items()]}


@router.post("/whatif", summary="改变哪些事实会得到其他结论 / What if: the smallest fact changes",
             openapi_extra=body_of("WhatIfRequest"), responses=answers("WhatIfResponse"))
async def what_if(request: Request, loaded: Loaded = Depends(context.snapshot),
                  config: ServeConfig = Depends(context.config), run=Depends(context.runner)):
    """The smallest sets of fact changes (at most ``max_changes``) that give ``output``
    ``value`` (or each other value), each verified by evaluating again."""
    return await _one_entity_call(request, WhatIfRequest, config, run,
                                  lambda opts, lang: _what_if(loaded.policy, opts, lang))
