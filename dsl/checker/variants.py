"""Apply a variant (and the chain it extends) over the base declarations.

The result is a view of the source with overridden parameters, rules and exceptions,
each remembering which variant supplied it (``origin``) and where (``loc``).
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib

from pydantic import ValidationError

from ..errors import Bilingual, error
from ..model import ParameterDef, RuleDef
from ..slips import schema_problem


def chain(src, name: str, diags: list) -> list:
    """The variants from the one nearest the base down to ``name``."""
    out, seen = [], set()
    current = name
    while current != "base":
        variant = src.variants.get(current)
        if variant is None or current in seen:
            last = out[-1] if out else None
            span = last.loc.span("extends") if last else None
            if span is not None:
                diags.append(error("E108", span, name=last.variant, base=current))
            return []
        seen.add(current)
        out.append(variant)
        current = variant.extends
    return list(reversed(out))


def apply(src, name: str, diags: list):
    """A shallow copy of ``src`` with the variant ``name`` applied."""
    view = copy.copy(src)
    view.parameters = dict(src.parameters)
    view.rules = dict(src.rules)
    for variant in chain(src, name, diags):
        _apply_one(view, variant, diags)
    return view


def _apply_one(view, variant, diags: list) -> None:
    loc = variant.loc
    for pname, override in variant.parameters.items():
        ploc = loc.child("parameters", pname)
        base = view.parameters.get(pname)
        if base is None:
            _missing(diags, ploc, "参数", "parameter", pname, view.parameters)
            continue
        merged = _merge(base, override, ParameterDef, ploc, diags)
        if merged is not None:
            merged.locate(ploc, variant.variant)
            view.parameters[pname] = merged
    for rname, override in variant.rules.items():
        rloc = loc.child("rules", rname)
        base = view.rules.get(rname)
        merged = _rule(base, override, rloc, diags)
        if merged is None:
            continue
        changes_value = base is None or any(k in override for k in ("expr", "table", "exceptions"))
        if changes_value:
            merged.locate(rloc, variant.variant)
        else:
            merged.locate(base.loc, base.origin)
        for i, exc in enumerate(merged.exceptions):
            if "exceptions" in override:
                exc.locate(rloc.child("exceptions", i), variant.variant)
            else:
                exc.locate(base.exceptions[i].loc, base.exceptions[i].origin)
        view.rules[rname] = merged
    for rname, added in variant.exceptions.items():
        base = view.rules.get(rname)
        if base is None:
            _missing(diags, loc.child("exceptions", rname), "规则", "rule", rname, view.rules)
            continue
        rule = base.model_copy()
        rule.locate(base.loc, base.origin)
        kept = [e for e in base.exceptions if e.id not in {a.id for a in added}]
        rule.exceptions = kept + list(added)
        view.rules[rname] = rule


def _rule(base, override, rloc, diags):
    if base is None:
        if "entity" not in override:
            diags.append(error("E103", rloc.key_span(), detail=Bilingual(
                "变体新增的规则须写明 entity", "a rule added by a variant needs entity")))
            return None
        return _validate(RuleDef, override, rloc, diags)
    data = base.model_dump(exclude_none=True)
    if "expr" in override:
        data.pop("table", None)
    if "table" in override:
        data.pop("expr", None)
    data.update(override)
    merged = _validate(RuleDef, data, rloc, diags)
    if merged is not None and "exceptions" not in override:
        merged.exceptions = list(base.exceptions)
    return merged


REPLACE_KEY = "replace_values"


def _merge(base, override, model, loc, diags):
    data = base.model_dump(exclude_none=True)
    override = dict(override)
    replace = override.pop(REPLACE_KEY, False)
    if replace not in (True, False):
        diags.append(error("E103", loc.key_span(REPLACE_KEY), detail=Bilingual(
            f"`{REPLACE_KEY}` 应为 true 或 false", f"`{REPLACE_KEY}` should be true or false")))
        replace = False
    if "values" in override and isinstance(override["values"], dict) and not replace:
        override["values"] = merge_timeline(data.get("values") or {}, override["values"])
    data.update(override)
    return _validate(model, data, loc, diags)


def merge_timeline(base: dict, variant: dict) -> dict:
    """A variant's dated values over the base's: from the variant's first date on, the
    variant's values hold; the base's values dated before it stay, so a date before
    the variant still has the base's value. (``replace_values: true`` in the variant
    drops the base's values instead.) Dates that are not ``YYYY-MM-DD`` are kept for
    the parameter check to report."""
    dates = sorted(_day(k) for k in variant if _day(k) is not None)
    if not dates:
        return dict(variant)
    first = dates[0]
    earlier = {k: v for k, v in base.items() if _day(k) is not None and _day(k) < first}
    return {**earlier, **variant}


def _day(key):
    if isinstance(key, dt.date):
        return key.isoformat()
    text = str(key)
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _validate(model, data, loc, diags):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in _in_data(data, first["loc"])) or "/"
        problem = schema_problem(first)
        diags.append(error("E103", loc.key_span(), detail=Bilingual(f"`{where}`：{problem['zh']}", f"`{where}`: {problem['en']}")))
        return None


def _in_data(data, path) -> tuple:
    """pydantic's error path without the names it adds for union members (see
    loader._data_path); a missing key keeps its name."""
    out, current = [], data
    for part in path:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif part != path[-1]:
            continue
        out.append(part)
    return tuple(out)


def _missing(diags, loc, zh, en, name, choices) -> None:
    guess = difflib.get_close_matches(name, list(choices), n=1)
    suggestion = Bilingual(f"是否想写 `{guess[0]}`？", f"did you mean `{guess[0]}`?") if guess else \
        Bilingual("变体只能覆盖已有的名称", "a variant can only override what exists")
    diags.append(error("E109", loc.key_span(), kind=Bilingual(zh, en), name=name, suggestion=suggestion))
