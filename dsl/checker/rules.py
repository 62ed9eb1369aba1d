"""Check rules: parse and resolve each expression, decision table and exception."""
from __future__ import annotations

import difflib
from decimal import Decimal

from pydantic import ValidationError

from .. import ast
from ..errors import Bilingual, error
from ..model import ROW_KEYS, Labels, ReadingDef, TableInputDef
from ..parser import ParseFailure, parse_expression, parse_unary_test
from ..slips import schema_problem
from ..types import ANY, BOOL, INTEGER, Type, assignable
from .checked import CException, CRow, CRule, CTable, CTableInput
from .resolve import INF, Resolver


def expr_text(raw) -> str:
    """The expression text of a YAML scalar (``3000`` and ``true`` are expressions too)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


class RuleChecker:
    """Builds the CRule of one rule, reporting problems into ``diags``."""

    def __init__(self, decls, symbols, diags: list):
        self.decls, self.sym, self.diags = decls, symbols, diags
        self.params_used: set[str] = set()
        # What the current rule's result depends on beyond its own definition (reset by
        # the caller per rule): the names its expressions looked up, the parameters used.
        self.rule_names: set[str] = set()
        self.rule_params: set[str] = set()

    def parse(self, raw, loc, sub: tuple, unary: bool = False) -> tuple[ast.Node | None, str]:
        text = expr_text(raw)
        try:
            node = parse_unary_test(text) if unary else parse_expression(text)
        except ParseFailure as exc:
            span = loc.expr_span(sub, text, min(exc.offset, len(text)))
            self.diags.append(error(exc.code, span, exc.length, **exc.details))
            return None, text
        return node, text

    def resolver(self, text, loc, sub) -> Resolver:
        return Resolver(self.sym, self.diags, text, loc, sub)

    def typed_expr(self, raw, loc, sub, entity, expected: Type | None, condition: bool = False):
        node, text = self.parse(raw, loc, sub)
        if node is None:
            return None, set()
        res = self.resolver(text, loc, sub)
        out = res.condition(node, entity) if condition else res.expr(node, entity, expected)
        self.params_used |= res.params_used
        self.rule_params |= res.params_used
        self.rule_names |= res.names
        return out, res.rules_used

    # --- one rule

    def rule(self, name: str, r) -> CRule | None:
        loc = r.loc
        entity = r.entity
        if entity not in self.sym.entities:
            hint = None if self.sym.entities else Bilingual(
                "政策中没有声明任何实体：实体声明在政策文件夹的其他文件里（如 entities.yaml），检查整个文件夹",
                "the policy declares no entity: entities are declared in other files of the policy folder "
                "(such as entities.yaml); check the whole folder")
            self.diags.append(error("E302", loc.span("entity") if r.entity else loc.key_span(), name=entity or "?",
                                    suggestion=_guess(entity or "", self.sym.entities), hint=hint))
            return None
        typ = self.sym.rule_types[entity][name]
        sources = self.decls.citations(r.source, loc, "source")
        crule = CRule(name, entity, typ, r.labels, r.unit, sources, r.note, r.internal, None, None, [],
                      r.origin, loc.key_span())
        if (r.expr is None) == (r.table is None):
            self.diags.append(error("E103", loc.key_span(), detail=Bilingual(
                f"规则 `{name}` 须有且只有 expr 或 table 之一", f"rule `{name}` needs exactly one of expr or table")))
            return crule
        if r.expr is not None:
            crule.expr, deps = self.typed_expr(r.expr, loc, ("expr",), entity, typ)
            crule.deps |= deps
            self.want_type(crule, crule.expr, loc.span("expr"))
        else:
            crule.table = self.table(crule, r.table, loc.child("table"))
        for key, code in (("reading", "I950"), ("gap", "I951")):
            declared = getattr(r, key)
            if declared is not None:
                self.declared(code, name, "", declared, loc.child(key))
        for i, exc in enumerate(r.exceptions):
            cexc = self.exception(crule, exc)
            if cexc:
                crule.exceptions.append(cexc)
        return crule

    def want_type(self, crule: CRule, out, span) -> None:
        if out is not None and not assignable(out.type, crule.type):
            self.diags.append(error("E403", out.span if out.span else span, name=crule.name,
                                    declared=str(crule.type), actual=str(out.type)))

    def exception(self, crule: CRule, exc) -> CException | None:
        loc = exc.loc
        when, d1 = self.typed_expr(exc.when, loc, ("when",), crule.entity, BOOL, condition=True)
        value, d2 = self.typed_expr(exc.value, loc, ("value",), crule.entity, crule.type)
        crule.deps |= d1 | d2
        self.want_type(crule, value, loc.span("value"))
        if when is None or value is None:
            return None
        sources = self.decls.citations(exc.source, loc, "source")
        return CException(exc.id, exc.labels, when, value, sources, exc.origin, loc.span())

    # --- decision tables

    def table(self, crule: CRule, table, loc) -> CTable | None:
        inputs = []
        for iname, spec in table.inputs.items():
            inputs.append(self.table_input(crule, iname, spec, loc.child("inputs", iname)))
        by_name = {i.name: i for i in inputs}
        self.table_policy(crule, table, loc)
        rows = []
        for index, row in enumerate(table.rows):
            crow = self.row(crule, table, by_name, row, index, loc.child("rows", index))
            if crow is not None:
                rows.append(crow)
        if not rows:
            self.diags.append(error("E604", loc.span("rows"), name=crule.name, detail=Bilingual("没有任何行", "has no rows")))
        priority = table.priority
        if table.hit == "priority" and priority is None and crule.type.kind == "enum":
            priority = list(self.sym.enums[crule.type.name].values)  # declaration order
        if table.gap is not None:
            self.decls.citations(table.gap.source, loc, "gap", "source")
        return CTable(table.hit, table.aggregate, priority, inputs, rows, loc.span(), gap=table.gap)

    def table_input(self, crule, iname, spec, loc) -> CTableInput:
        raw = spec.expr if isinstance(spec, TableInputDef) else spec
        sub = ("expr",) if isinstance(spec, TableInputDef) else ()
        expr, deps = self.typed_expr(raw, loc, sub, crule.entity, None)
        crule.deps |= deps
        labels = spec.labels if isinstance(spec, TableInputDef) else None
        domain = None
        if isinstance(spec, TableInputDef) and spec.domain:
            domain = self.domain(spec.domain, loc.child("domain"))
        return CTableInput(iname, expr if expr is not None else None, labels, domain)

    def domain(self, text, loc):
        node, _ = self.parse(text, loc, (), unary=True)
        if not isinstance(node, ast.TestIn) or not isinstance(node.container, ast.Interval):
            if node is not None:
                self.diags.append(error("E207", loc.span(), text=text))
            return None
        iv = node.container
        lo, hi = _const(iv.lo), _const(iv.hi)
        if lo is None or hi is None:
            self.diags.append(error("E207", loc.span(), text=text))
            return None
        return (lo, iv.lo_closed, hi, iv.hi_closed)

    def table_policy(self, crule, table, loc) -> None:
        if table.hit == "collect":
            if table.aggregate is None:
                self.diags.append(error("E604", loc.key_span("hit"), name=crule.name, detail=Bilingual(
                    "collect 需要 aggregate（sum/min/max/count/list）", "collect needs aggregate (sum/min/max/count/list)")))
            elif table.aggregate in ("sum", "min", "max") and not (crule.type.numeric or crule.type == ANY):
                self.diags.append(error("E604", loc.span("aggregate"), name=crule.name, detail=Bilingual(
                    f"{table.aggregate} 需要数值类型，规则是 {crule.type}", f"{table.aggregate} needs a numeric rule, not {crule.type}")))
            elif table.aggregate == "count" and crule.type != INTEGER:
                self.diags.append(error("E403", loc.span("aggregate"), name=crule.name, declared=str(crule.type), actual="integer"))
        elif table.aggregate is not None:
            self.diags.append(error("E604", loc.span("aggregate"), name=crule.name, detail=Bilingual(
                "aggregate 只用于 collect", "aggregate is only for hit: collect")))
        if table.hit == "priority":
            order = table.priority
            if order is None and crule.type.kind != "enum":
                self.diags.append(error("E604", loc.key_span("hit"), name=crule.name, detail=Bilingual(
                    "priority 需要 priority: 列出输出的先后", "priority needs a priority: list of outputs, highest first")))
            elif order is not None and crule.type.kind == "enum":
                values = self.sym.enums[crule.type.name].values
                for i, v in enumerate(order):
                    if v not in values:
                        self.diags.append(error("E304", loc.span("priority", i), value=v, enum=crule.type.name,
                                                values=", ".join(values)))

    def row(self, crule, table, by_name, row, index, loc) -> CRow | None:
        if not isinstance(row, dict):
            self.diags.append(error("E103", loc.span(), detail=Bilingual("表格行应为映射", "a table row must be a mapping")))
            return None
        tests = {}
        for key, cell in row.items():
            if key in ROW_KEYS:
                continue
            if key not in by_name:
                guess = difflib.get_close_matches(str(key), list(by_name) + list(ROW_KEYS), n=1)
                self.diags.append(error("E603", loc.key_span(key), name=key, suggestion=guess[0] if guess else "then"))
                continue
            test = self.cell(crule, by_name[key], cell, loc, key)
            if test is not None:
                tests[key] = test
        if "then" not in row:
            if table.aggregate == "count":
                then_raw = 1
            else:
                self.diags.append(error("E103", loc.span(), detail=Bilingual("表格行缺少 then", "a table row needs then")))
                return None
        else:
            then_raw = row["then"]
        expected = crule.type if table.aggregate not in ("count",) else None
        then, deps = self.typed_expr(then_raw, loc, ("then",), crule.entity, expected)
        crule.deps |= deps
        if then is None:
            return None
        if table.aggregate not in ("count", "list"):
            self.want_type(crule, then, loc.span("then"))
        where = Bilingual(f" 第 {index + 1} 行" + (f"（{row['id']}）" if row.get("id") else ""),
                          f" row {index + 1}" + (f" ({row['id']})" if row.get("id") else ""))
        for key, code in (("reading", "I950"), ("gap", "I951")):
            if key in row:
                declared = self.reading(row[key], loc.child(key))
                if declared is not None:
                    self.declared(code, crule.name, where, declared, loc.child(key))
        reason = self.labels(row.get("reason"), loc.child("reason"))
        sources = self.decls.citations(row.get("source"), loc, "source")
        rid = row.get("id")
        return CRow(index + 1, str(rid) if rid is not None else None, tests, then, reason, sources, loc.span())

    def reading(self, raw, loc) -> ReadingDef | None:
        """A row's ``reading:``/``gap:`` (rows are free mappings, validated here)."""
        try:
            return ReadingDef.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            problem = schema_problem(err)
            key = ".".join(str(p) for p in err["loc"] if isinstance(p, (str, int)) and p in ("reason", "source"))
            self.diags.append(error("E103", loc.span(), detail=Bilingual(
                f"应写成 {{reason: …, source: …}}：{key or '/'} {problem['zh']}",
                f"write {{reason: …, source: …}}: {key or '/'} {problem['en']}")))
            return None

    def declared(self, code: str, name: str, where, declared: ReadingDef, loc) -> None:
        """List a declared interpretation (info), its citations checked."""
        self.decls.citations(declared.source, loc, "source")
        reason = Bilingual(declared.text("zh"), declared.text("en"))
        self.diags.append(error(code, loc.span(), name=name, where=where, reason=reason, source=declared.source))

    def labels(self, raw, loc) -> Labels | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return Labels(zh=raw)
        try:
            return Labels.model_validate(raw)
        except ValidationError as exc:
            problem = schema_problem(exc.errors()[0])
            self.diags.append(error("E103", loc.span(), detail=Bilingual(
                f"reason 应为 {{zh: …, en: …}}：{problem['zh']}", f"reason must be {{zh: …, en: …}}: {problem['en']}")))
            return None

    def cell(self, crule, tinput: CTableInput, cell, loc, key):
        node, text = self.cell_ast(cell, loc, key)
        if node is None:
            return None
        itype = tinput.expr.type if tinput.expr is not None else ANY
        res = self.resolver(text, loc, (key,))
        res.column = tinput.expr
        out = res.test(node, crule.entity, itype)
        self.params_used |= res.params_used
        self.rule_params |= res.params_used
        self.rule_names |= res.names
        crule.deps |= res.rules_used
        return out

    def cell_ast(self, cell, loc, key):
        if cell is None:
            return ast.TestAny(), "any"
        if isinstance(cell, bool):
            return ast.TestEqual(ast.Bool(cell)), expr_text(cell)
        if isinstance(cell, (int, Decimal)):
            kind = "integer" if isinstance(cell, int) else "decimal"
            return ast.TestEqual(ast.Num(cell, kind)), str(cell)
        if isinstance(cell, list):
            items = []
            for item in cell:
                if isinstance(item, bool):
                    items.append(ast.Bool(item))
                elif isinstance(item, (int, Decimal)):
                    items.append(ast.Num(item, "integer" if isinstance(item, int) else "decimal"))
                else:
                    items.append(ast.Name(str(item)))
            text = "{" + ", ".join(expr_text(i) for i in cell) + "}"
            return ast.TestIn(ast.SetLit(tuple(items))), text
        if isinstance(cell, str):
            node, text = self.parse(cell, loc, (key,), unary=True)
            return node, text
        self.diags.append(error("E207", loc.span(key), text=str(cell)))
        return None, ""


def _const(node):
    if isinstance(node, ast.Num):
        return node.value
    if isinstance(node, ast.Name) and node.id in ("inf", "∞"):
        return INF
    if isinstance(node, ast.Neg):
        inner = _const(node.operand)
        return -inner if inner is not None else None
    return None


def _guess(name: str, choices) -> str:
    found = difflib.get_close_matches(name, list(choices), n=1)
    return found[0] if found else next(iter(choices), "?")
