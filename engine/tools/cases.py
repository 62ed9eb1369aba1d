"""Run YAML test cases against a policy and measure what they exercised.

A case gives facts, an as-of date (the policy's declared default when it gives none), a
variant, expected outputs, expected unknowns (with the facts they wait on) or an expected
error code. A fact the entity does not declare fails the case (E815, with a did-you-mean)
unless the case says ``allow_unknown_fields: true`` (or expects ``error: E815``). A case judges only what it
names: the outputs under ``expect`` and ``unknown``, and errors only when it says
``error:`` (a code that some output or the facts must raise, or ``{output: code}``).
An error in an output the case does not name does not fail it. Coverage counts every
rule, decision-table row and exception of the base and of each variant, and reports
those no case ever exercised.

A malformed case file is reported as located ``E813`` diagnostics (unknown keys with a
did-you-mean hint, wrong shapes, unknown error codes) rather than silently checking
nothing; a failing case can also be rendered as ``E813`` (:attr:`Outcome.diagnostics`).
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ...dsl.codes import CODES
from ...dsl.errors import Bilingual, FupinError, Span, error
from ...dsl.yamlsrc import load_yaml_file
from ..facts.read import Locator
from .expected import Expected

CASE_KEYS = ("name", "entity", "on", "variant", "facts", "expect", "unknown", "error", "allow_unknown_fields", "note")


@dataclass
class Case:
    """One test case, with the file and place it came from."""

    name: str
    file: str
    line: int
    entity: str
    on: str | None
    variant: str | None
    facts: dict
    expect: dict
    unknown: dict | list | None
    error: str | dict | None
    allow_unknown_fields: bool = False  # undeclared facts ignored (W906), not an error (E815)
    where: object = None  # locates the case's facts in its file (engine/facts/read.Locator)


@dataclass
class Outcome:
    """A case's failures (empty when it passed) and the items its evaluation covered."""

    case: Case
    failures: list[str] = field(default_factory=list)
    covered: set = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def diagnostics(self) -> list:
        """Each failure as an ``E813`` diagnostic located at the case."""
        span = Span(self.case.file, self.case.line, 1)
        return [error("E813", span, name=self.case.name, detail=f) for f in self.failures]


def load_cases(path: Path) -> list[Case]:
    """Every case in a YAML file or a folder of them; FupinError (E813) if malformed."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.y*ml"))
    cases, diags = [], []
    for f in files:
        try:
            data, pos = load_yaml_file(os.path.relpath(f))
        except FupinError as exc:  # the file's other cases cannot be read either
            diags += [_twice(d, os.path.relpath(f)) for d in exc.diagnostics]
            continue
        if not isinstance(data, dict) or "cases" not in data:
            continue
        raws = data.get("cases") or []
        if not isinstance(raws, list):
            diags.append(_bad(pos.span(("cases",)), pos.span(("cases",)).file,
                              "cases 应为用例列表", "cases should be a list of cases"))
            continue
        for i, raw in enumerate(raws):
            case = _case(raw, i, data, pos, diags)
            if case is not None:
                cases.append(case)
    if diags:
        raise FupinError(diags)
    return cases


def _case(raw, i: int, data: dict, pos, diags: list) -> Case | None:
    span = pos.span(("cases", i))
    if not isinstance(raw, dict):
        diags.append(_bad(span, f"case {i + 1}", "用例应为映射（name、facts、expect……）",
                          "a case should be a mapping (name, facts, expect, …)"))
        return None
    name = str(raw.get("name", f"case {i + 1}"))
    before = len(diags)
    for key in raw:
        if key not in CASE_KEYS:
            guess = difflib.get_close_matches(str(key), CASE_KEYS, n=1)
            hint = Bilingual(f"是否想写 `{guess[0]}`？", f"did you mean `{guess[0]}`?") if guess else \
                Bilingual("可用的键：" + "、".join(CASE_KEYS), "keys: " + ", ".join(CASE_KEYS))
            diags.append(_bad(pos.key_span(("cases", i, key)), name, f"未知的键 `{key}`", f"unknown key `{key}`", hint))
    _shape(raw, "expect", (dict,), "expect 应为 输出: 值 的映射", "expect should map outputs to values",
           name, i, pos, diags)
    _shape(raw, "unknown", (dict, list), "unknown 应为输出列表或 输出: [事实] 的映射",
           "unknown should be a list of outputs or map outputs to facts", name, i, pos, diags)
    _shape(raw, "allow_unknown_fields", (bool,), "allow_unknown_fields 应为 true 或 false",
           "allow_unknown_fields should be true or false", name, i, pos, diags)
    _error_shape(raw.get("error"), name, i, pos, diags)
    if len(diags) == before and not any(raw.get(key) for key in ("expect", "unknown", "error")):
        # a case that names nothing to judge passes whatever the policy says
        diags.append(_bad(span, name, "用例没有要检查的内容：写 expect（期望的输出值）、unknown 或 error",
                          "the case checks nothing: give expect (outputs and their values), unknown or error"))
    if len(diags) > before:
        return None
    case = Case(name, span.file, span.line, raw.get("entity", data.get("entity", "household")),
                _text(raw.get("on", data.get("on"))), raw.get("variant", data.get("variant")),
                raw.get("facts") or {}, raw.get("expect") or {}, raw.get("unknown"), raw.get("error"),
                raw.get("allow_unknown_fields", data.get("allow_unknown_fields")) is True)
    case.where = Locator(pos, ("cases", i, "facts"))
    return case


def _shape(raw, key, types, zh, en, name, i, pos, diags) -> None:
    if raw.get(key) is not None and not isinstance(raw[key], types):
        diags.append(_bad(pos.span(("cases", i, key)), name, zh, en))


def _error_shape(want, name, i, pos, diags) -> None:
    """``error:`` is a code, or a mapping of output names to codes; codes must exist."""
    if want is None:
        return
    where = pos.span(("cases", i, "error"))
    codes = list(want.values()) if isinstance(want, dict) else [want]
    if not isinstance(want, (str, dict)) or not all(isinstance(c, str) for c in codes):
        diags.append(_bad(where, name, "error 应为错误代码，或 输出: 错误代码 的映射",
                          "error should be a code, or map outputs to codes"))
        return
    for code in codes:
        if code not in CODES:
            guess = difflib.get_close_matches(code, list(CODES), n=1)
            hint = Bilingual(f"是否想写 `{guess[0]}`？", f"did you mean `{guess[0]}`?") if guess else None
            diags.append(_bad(where, name, f"未知的错误代码 `{code}`", f"unknown error code `{code}`", hint))


def _twice(diag, file: str):
    """A key given twice in a case file is the case file's mistake (E813), not the rule
    files' E104 with its hint "a name is declared once in the whole policy"."""
    if diag.code != "E104":
        return diag
    key, first = diag.args["name"], diag.args["first"]
    return _bad(diag.span, file, f"键 `{key}` 在同一映射中出现两次（首次在 {first}；只能写一次）",
                f"key `{key}` appears twice in one mapping (first at {first}; write it once)")


def _bad(span: Span, name: str, zh: str, en: str, hint=None):
    args = {"name": name, "detail": Bilingual(zh, en)}
    if hint:
        args["hint"] = hint
    return error("E813", span, **args)


def _text(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def run_case(policy, case: Case) -> Outcome:
    """Evaluate one case with a trace; compare what it names; collect coverage."""
    out = Outcome(case)
    try:
        result = policy.evaluate(case.facts, on=case.on, variant=case.variant, entity=case.entity, trace=True,
                                 where=case.where, allow_unknown_fields=case.allow_unknown_fields)
    except FupinError as exc:
        if isinstance(case.error, str) and case.error in {d.code for d in exc.diagnostics}:
            return out
        out.failures.extend(_failure(d) for d in exc.diagnostics)
        return out
    _compare(out, result, Expected(policy.program(case.variant).checked))
    out.covered = covered_items(result.trace_tree())  # the rules, rows and exceptions used: no deciding facts needed
    return out


def _failure(d) -> Bilingual:
    """A diagnostic that stopped a case, as one line: code, message, hint, place."""
    def line(lang):
        hint = d.hint(lang)
        where = f" ({d.span})" if d.span.line else ""
        return f"{'错误' if lang == 'zh' else 'error'} {d.code}: {d.message(lang)}" + (f" — {hint}" if hint else "") + where

    return Bilingual(line("zh"), line("en"))


def _compare(out: Outcome, result, expected: Expected) -> None:
    """Judge only the outputs the case names, and errors only where it expects one."""
    case = out.case
    for name, raw in case.expect.items():
        if not _exists(out, result, name, expected):
            continue
        want, never = expected.read(name, raw)
        if never is not None:
            out.failures.append(never)
            continue
        shown = Bilingual(*(expected.text(name, want, lang) for lang in ("zh", "en")))
        if _errored(out, result, name, Bilingual(f"应为 {shown['zh']}", f"expected {shown['en']}")):
            continue
        got = result.values[name]
        if not same(got, want):
            out.failures.append(_mismatch(name, shown, got, result, expected))
    wanted = case.unknown or {}
    if isinstance(wanted, list):
        wanted = {name: None for name in wanted}
    for name, facts in wanted.items():
        if not _exists(out, result, name, expected) or \
                _errored(out, result, name, Bilingual("应为未知", "expected unknown")):
            continue
        if name not in result.unknown:
            got = [expected.text(name, result.values.get(name), lang) for lang in ("zh", "en")]
            out.failures.append(Bilingual(f"{name}：应为未知，实为 {got[0]}", f"{name}: expected unknown, got {got[1]}"))
        elif facts is not None and sorted(facts) != result.unknown[name]:
            out.failures.append(Bilingual(
                f"{name}：应缺少 {_facts(sorted(facts), 'zh')}，实缺少 {_facts(result.unknown[name], 'zh')}",
                f"{name}: expected to wait on {_facts(sorted(facts), 'en')}, waits on {_facts(result.unknown[name], 'en')}"))
    _expected_errors(out, result, expected)


def _mismatch(name, shown: Bilingual, got, result, expected: Expected) -> Bilingual:
    texts = [expected.text(name, got, lang) for lang in ("zh", "en")] if got is not None else ["未知", "unknown"]
    waits = result.unknown.get(name)
    zh = f"{name}：应为 {shown['zh']}，实为 {texts[0]}" + (f"（缺少 {_facts(waits, 'zh')}）" if waits else "")
    en = f"{name}: expected {shown['en']}, got {texts[1]}" + (f" (waits on {_facts(waits, 'en')})" if waits else "")
    return Bilingual(zh, en)


def _facts(paths: list, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(f"`{p}`" for p in paths)


def _exists(out: Outcome, result, name: str, expected: Expected) -> bool:
    if name in result.values:
        return True
    guess = expected.guess(name)
    out.failures.append(Bilingual(f"{name}：没有这个输出" + (f"（是否想写 `{guess}`？）" if guess else ""),
                                  f"{name}: no such output" + (f" (did you mean `{guess}`?)" if guess else "")))
    return False


def _errored(out: Outcome, result, name: str, wanted: Bilingual) -> bool:
    err = result.errors.get(name)
    if err is not None:
        out.failures.append(Bilingual(f"{name}：{wanted['zh']}，实为错误 {err.code}：{err.message}",
                                      f"{name}: {wanted['en']}, got error {err.code}: {err.message_en}"))
    return err is not None


def _expected_errors(out: Outcome, result, expected: Expected) -> None:
    want = out.case.error
    if isinstance(want, str):
        codes = sorted({e.code for e in result.errors.values()})
        if want not in codes:
            got = "、".join(codes) or "无", ", ".join(codes) or "none"
            out.failures.append(Bilingual(f"应有错误 {want}，实有 {got[0]}", f"expected error {want}, got {got[1]}"))
    elif isinstance(want, dict):
        for name, code in want.items():
            if not _exists(out, result, name, expected):
                continue
            err = result.errors.get(name)
            if err is None or err.code != code:
                got = [f"错误 {err.code}", f"error {err.code}"] if err else \
                    [expected.text(name, result.values[name], lang) for lang in ("zh", "en")]
                out.failures.append(Bilingual(f"{name}：应有错误 {code}，实为 {got[0]}",
                                              f"{name}: expected error {code}, got {got[1]}"))


def same(actual, expected) -> bool:
    """Compare an output with an expected value (numbers exactly, as Decimals)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if expected is None:
        return actual is None
    if isinstance(actual, (int, Decimal)) and isinstance(expected, (int, Decimal, str)):
        try:
            from ...dsl.coerce import to_decimal

            return Decimal(actual) == to_decimal(expected)
        except ValueError:
            return False
    return actual == expected


def covered_items(trace) -> set:
    items = set()
    stack = list(trace.roots) if trace else []
    while stack:
        node = stack.pop()
        items.add(("rule", node.origin, node.rule))
        d = node.decided_by or {}
        if d.get("kind") == "row":
            for index in d.get("rows") or [d.get("row")]:
                items.add(("row", node.origin, node.rule, index))
        elif d.get("kind") == "exception":
            items.add(("exception", d.get("origin", "base"), node.rule, d["id"]))
        stack.extend(node.children)
    return items


def coverage_universe(policy) -> set:
    """Every rule, row and exception of the base and of each variant (by origin)."""
    items = set()
    for variant in policy.variants:
        checked = policy.program(None if variant == "base" else variant).checked
        for rule in checked.rules.values():
            items.add(("rule", rule.origin, rule.name))
            if rule.table:
                items |= {("row", rule.origin, rule.name, r.index) for r in rule.table.rows}
            items |= {("exception", e.origin, rule.name, e.id) for e in rule.exceptions}
    return items


def describe_item(item) -> str:
    kind, origin, rule, *rest = item
    where = f"{origin}:" if origin != "base" else ""
    if kind == "rule":
        return f"rule {where}{rule}"
    if kind == "row":
        return f"row {where}{rule}#{rest[0]}"
    return f"exception {where}{rule}/{rest[0]}"


_KINDS = {"rule": ("规则", "rules"), "row": ("表格行", "table rows"), "exception": ("例外", "exceptions")}


class Coverage:
    """What a policy's cases exercised, against every rule, row and exception it has."""

    def __init__(self, policy):
        self.universe = coverage_universe(policy)
        self.covered: set = set()

    def add(self, items: set) -> None:
        self.covered |= items & self.universe

    @property
    def missing(self) -> list:
        return sorted(self.universe - self.covered, key=str)

    @property
    def percent(self) -> float:
        if not self.universe:
            return 100.0
        return 100.0 * len(self.covered) / len(self.universe)

    def report(self, lang: str = "zh") -> list[str]:
        """The counts per kind and the percentage, then one line per item never exercised."""
        en = lang == "en"
        counts = [f"{_KINDS[k][en]} {sum(1 for i in self.covered if i[0] == k)}/"
                  f"{sum(1 for i in self.universe if i[0] == k)}" for k in _KINDS]
        lines = [("，" if not en else ", ").join(counts) + (f" — coverage {self.percent:.1f}%" if en else
                                                             f" — 覆盖率 {self.percent:.1f}%")]
        prefix = "  never exercised: " if en else "  未覆盖: "
        return lines + [prefix + describe_item(item) for item in self.missing]
