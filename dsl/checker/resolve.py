"""Resolve names and check types: surface AST → typed IR.

One :class:`Resolver` per expression. Names are looked up in the entity's fields and
rules, then parameters, then — where an enum value is expected — the enum's values.
Every problem becomes a located diagnostic; the offending node gets type ``any`` so one
mistake does not cascade into many.
"""
from __future__ import annotations

import difflib
from decimal import Decimal

from .. import ast
from .. import typed as t
from ..coerce import within_bounds
from ..errors import Bilingual, error
from ..types import ANY, BOOL, DATE, DECIMAL, INTEGER, MONEY, RATIO, STRING, Type, arith, assignable, comparable

FUNCTIONS = {"min": (2, 99), "max": (2, 99), "abs": (1, 1), "round": (1, 2), "floor": (1, 1),
             "ceil": (1, 1), "year": (1, 1), "is_known": (1, 1)}
AGGREGATES = ("count", "sum", "any", "all", "min", "max")
INF = Decimal("Infinity")


class Symbols:
    """What names can mean: entities, rule types per entity, parameters, enums."""

    def __init__(self, entities, rule_types, params, enums):
        self.entities = entities  # name -> CEntity
        self.rule_types = rule_types  # entity -> {rule name: Type}
        self.params = params  # name -> Type
        self.enums = enums  # name -> CEnum

    def ancestors(self, entity: str) -> list[str]:
        out, seen = [], {entity}
        current = self.entities.get(entity)
        while current and current.parent and current.parent not in seen:
            out.append(current.parent)
            seen.add(current.parent)
            current = self.entities.get(current.parent)
        return out

    def names_of(self, entity: str) -> list[str]:
        ent = self.entities.get(entity)
        return list(ent.fields if ent else []) + list(self.rule_types.get(entity, {}))


class Resolver:
    """Resolves one expression written at ``loc``/``sub`` (for error positions)."""

    def __init__(self, symbols: Symbols, diags: list, text: str, loc, sub: tuple):
        self.sym, self.diags, self.text, self.loc, self.sub = symbols, diags, text, loc, sub
        self.rules_used: set[str] = set()
        self.params_used: set[str] = set()
        self.names: set[str] = set()  # every name looked up (what the result depends on)
        self.column: t.T | None = None  # a table cell: its input's typed expression (for units)

    # --- helpers

    def span(self, node: ast.Node):
        return self.loc.expr_span(self.sub, self.text, node.start)

    def snippet(self, node: ast.Node) -> str:
        return self.text[node.start:node.end]

    def err(self, code: str, node: ast.Node, **args) -> None:
        length = max(min(node.end - node.start, len(self.text) - node.start), 1)
        if "\n" in self.text[node.start:node.start + length]:
            length = self.text.index("\n", node.start) - node.start or 1
        self.diags.append(error(code, self.span(node), length, **args))

    def base(self, node: ast.Node, typ: Type) -> dict:
        return {"type": typ, "span": self.span(node), "text": self.snippet(node)}

    def bad(self, node: ast.Node) -> t.T:
        return t.TLit(**self.base(node, ANY), value=None)

    # --- entry points

    def expr(self, node: ast.Node, entity: str, expected: Type | None = None) -> t.T:
        method = getattr(self, "r_" + type(node).__name__)
        return method(node, entity, expected)

    def condition(self, node: ast.Node, entity: str) -> t.T:
        out = self.expr(node, entity, BOOL)
        self.want_bool(out, node)
        return out

    def want_bool(self, out: t.T, node: ast.Node) -> None:
        if out.type not in (BOOL, ANY):
            self.err("E402", node, type=str(out.type))

    # --- literals

    def r_Num(self, node, entity, expected):
        typ = {"integer": INTEGER, "decimal": DECIMAL, "money": MONEY, "ratio": RATIO}[node.kind]
        if not within_bounds(node.value):  # the bound every number obeys (dsl/coerce.py)
            self.err("E822", node, value=self.snippet(node))
            return self.bad(node)
        return t.TLit(**self.base(node, typ), value=node.value)

    def r_Str(self, node, entity, expected):
        return t.TLit(**self.base(node, STRING), value=node.value)

    def r_DateLit(self, node, entity, expected):
        return t.TLit(**self.base(node, DATE), value=node.value)

    def r_Bool(self, node, entity, expected):
        return t.TLit(**self.base(node, BOOL), value=node.value)

    # --- names

    def known(self, node: ast.Node, entity: str) -> bool:
        """Whether a bare name resolves without an expected enum type."""
        if not isinstance(node, ast.Name):
            return True
        self.names.add(node.id)
        return node.id in self.sym.names_of(entity) or node.id in self.sym.params

    def r_Name(self, node, entity, expected):
        name = node.id
        self.names.add(name)
        ent = self.sym.entities.get(entity)
        if ent and name in ent.fields:
            f = ent.fields[name]
            if expected and expected.kind == "enum" and name in self.sym.enums[expected.name].values and f.type != expected:
                self.diags.append(error("W907", self.span(node), name=name))
            return t.TField(**self.base(node, f.type), entity=entity, name=name,
                            when_absent=f.when_absent, has_absent=f.has_absent)
        rules = self.sym.rule_types.get(entity, {})
        if name in rules:
            self.rules_used.add(name)
            return t.TRule(**self.base(node, rules[name]), entity=entity, name=name)
        if name in self.sym.params:
            self.params_used.add(name)
            return t.TParam(**self.base(node, self.sym.params[name]), name=name)
        if expected and expected.kind == "enum":
            values = self.sym.enums[expected.name].values
            if name in values:
                return t.TLit(**self.base(node, expected), value=name)
            self.err("E304", node, value=name, enum=expected.name, values=", ".join(values))
            return self.bad(node)
        if name in ("inf", "∞"):
            return t.TLit(**self.base(node, DECIMAL), value=INF)
        self.undefined(node, entity, expected)
        return self.bad(node)

    def undefined(self, node: ast.Name, entity: str, expected) -> None:
        name = node.id
        for anc in self.sym.ancestors(entity):
            if name in self.sym.names_of(anc):
                self.err("E301", node, name=name, suggestion=f"{anc}.{name}")
                return
        for kw in ("且", "或", "非"):
            parts = [p for p in name.split(kw) if p]
            if len(parts) > 1 and all(self.known(ast.Name(p), entity) for p in parts):
                self.err("E301", node, name=name, hint=Bilingual(
                    f"中文关键字“{kw}”两侧要加空格：`{f' {kw} '.join(parts)}`",
                    f"put spaces around the keyword “{kw}”: `{f' {kw} '.join(parts)}`"))
                return
        ent = self.sym.entities.get(entity)
        for list_field, child in (ent.children.items() if ent else ()):
            if name in self.sym.names_of(child):
                self.err("E301", node, name=name, hint=Bilingual(
                    f"`{name}` 属于 {child}，需经汇总使用，例如 count({list_field} where {name} …)",
                    f"`{name}` belongs to {child}; use it inside an aggregation, e.g. count({list_field} where {name} …)"))
                return
        candidates = self.sym.names_of(entity) + list(self.sym.params)
        for anc in self.sym.ancestors(entity):
            candidates.append(anc)
        guess = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
        if guess:
            self.err("E301", node, name=name, suggestion=guess[0])
        else:
            self.err("E301", node, name=name, hint=Bilingual(
                f"`{entity}` 上没有这个字段、规则或参数", f"`{entity}` has no such field, rule or parameter"))

    def r_Attr(self, node, entity, expected):
        obj = node.obj
        if not isinstance(obj, ast.Name) or obj.id not in self.sym.entities:
            self.err("E306", node, name=self.snippet(obj), entity=entity)
            return self.bad(node)
        ancestors = self.sym.ancestors(entity)
        if obj.id not in ancestors:
            self.err("E306", obj, name=obj.id, entity=entity)
            return self.bad(node)
        levels = ancestors.index(obj.id) + 1
        self.names.add(node.name)
        target_node = ast.Name(node.name, node.start, node.end)
        if node.name not in self.sym.names_of(obj.id):
            guess = difflib.get_close_matches(node.name, self.sym.names_of(obj.id), n=1)
            self.err("E301", node, name=f"{obj.id}.{node.name}", suggestion=f"{obj.id}.{guess[0]}" if guess else obj.id)
            return self.bad(node)
        target = self.r_Name(target_node, obj.id, expected)
        return t.TUp(**self.base(node, target.type), levels=levels, target=target)

    # --- operators

    def r_Neg(self, node, entity, expected):
        operand = self.expr(node.operand, entity)
        if not operand.type.numeric and operand.type != ANY:
            self.err("E401", node, detail=Bilingual(f"不能对 {operand.type} 取负", f"cannot negate {operand.type}"))
            return self.bad(node)
        return t.TNeg(**self.base(node, operand.type), operand=operand)

    def r_Not(self, node, entity, expected):
        operand = self.condition(node.operand, entity)
        return t.TNot(**self.base(node, BOOL), operand=operand)

    def r_Arith(self, node, entity, expected):
        operands = [self.expr(o, entity) for o in node.operands]
        current = operands[0].type
        steps = []
        for op, right, rnode in zip(node.ops, operands[1:], node.operands[1:]):
            result = arith(op, current, right.type)
            if result is None:
                self.err("E401", node, detail=Bilingual(f"{current} {op} {right.type} 没有意义",
                                                         f"{current} {op} {right.type} is meaningless"))
                return self.bad(node)
            if op in "+-" and not self.units_agree_sum(operands[0] if len(steps) == 0 else None, right, current, node):
                return self.bad(node)
            steps.append(result)
            current = result
        return t.TArith(**self.base(node, current), operands=operands, ops=list(node.ops), steps=steps)

    def r_And(self, node, entity, expected):
        items = [self.condition(i, entity) for i in node.items]
        return t.TAnd(**self.base(node, BOOL), items=items)

    def r_Or(self, node, entity, expected):
        items = [self.condition(i, entity) for i in node.items]
        return t.TOr(**self.base(node, BOOL), items=items)

    def siblings(self, nodes, entity) -> list[t.T]:
        """Resolve operands that must share a type; bare enum values take a sibling's type."""
        out: list = [None] * len(nodes)
        for i, n in enumerate(nodes):
            if self.known(n, entity):
                out[i] = self.expr(n, entity)
        for i, n in enumerate(nodes):
            if out[i] is None:
                near = [o for o in (out[i - 1] if i else None, out[i + 1] if i + 1 < len(out) else None) if o]
                hint = next((o.type for o in near if o.type.kind == "enum"), None)
                out[i] = self.expr(n, entity, hint)
        return out

    def r_Compare(self, node, entity, expected):
        operands = self.siblings(node.operands, entity)
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if not comparable(left.type, right.type, op):
                self.err("E404", node, left=str(left.type), right=str(right.type))
                return self.bad(node)
            if not self.units_agree(left, right, node):
                return self.bad(node)
        return t.TCompare(**self.base(node, BOOL), operands=operands, ops=list(node.ops))

    def r_In(self, node, entity, expected):
        subject = self.expr(node.subject, entity)
        container = self.container(node.container, entity, subject.type)
        return t.TIn(**self.base(node, BOOL), subject=subject, container=container, negated=node.negated)

    def container(self, node, entity, subject_type: Type) -> t.T:
        if isinstance(node, ast.SetLit):
            items = [self.expr(i, entity, subject_type) for i in node.items]
            for item, inode in zip(items, node.items):
                if not comparable(subject_type, item.type, "=="):
                    self.err("E404", inode, left=str(subject_type), right=str(item.type))
                elif self.column is not None:
                    self.units_agree(self.column, item, inode)
            return t.TSet(**self.base(node, subject_type), items=items)
        lo = self.bound(node.lo, entity, subject_type)
        hi = self.bound(node.hi, entity, subject_type)
        return t.TInterval(**self.base(node, subject_type), lo=lo, hi=hi,
                           lo_closed=node.lo_closed, hi_closed=node.hi_closed)

    def bound(self, node, entity, subject_type: Type) -> t.T:
        if isinstance(node, ast.Neg) and isinstance(node.operand, ast.Name) and node.operand.id in ("inf", "∞"):
            return t.TLit(**self.base(node, ANY), value=-INF)
        out = self.expr(node, entity)
        if out.type.kind == "decimal" and isinstance(getattr(out, "value", None), Decimal) and out.value == INF:
            return out
        if not (subject_type.ordered or subject_type == ANY) or not comparable(subject_type, out.type, "<"):
            self.err("E404", node, left=str(subject_type), right=str(out.type))
        elif self.column is not None:
            self.units_agree(self.column, out, node)
        return out

    def r_If(self, node, entity, expected):
        cond = self.condition(node.cond, entity)
        then = self.expr(node.then, entity, expected)
        else_ = self.expr(node.else_, entity, expected)
        typ = unify(then.type, else_.type)
        if typ is None:
            self.err("E401", node, detail=Bilingual(f"两个分支类型不同：{then.type} 与 {else_.type}",
                                                     f"branches differ: {then.type} and {else_.type}"))
            return self.bad(node)
        return t.TIf(**self.base(node, typ), cond=cond, then=then, else_=else_)

    # --- calls and aggregations

    def r_Call(self, node, entity, expected):
        if node.fn in AGGREGATES and node.args and self.is_list(node.args[0], entity):
            if node.fn == "count" and len(node.args) == 1:
                return self.r_Agg(ast.Agg("count", node.args[0], None, None, node.start, node.end), entity, expected)
            if len(node.args) == 2:  # sum(members, expr): the comma form of sum(members: expr)
                return self.r_Agg(ast.Agg(node.fn, node.args[0], None, node.args[1], node.start, node.end), entity, expected)
            self.err("E305", node, name=node.fn, detail=Bilingual(f"需要写成 {node.fn}(列表, 表达式)",
                                                                  f"is written {node.fn}(list, expression)"),
                     functions=", ".join(list(FUNCTIONS) + list(AGGREGATES)))
            return self.bad(node)
        if node.fn not in FUNCTIONS:
            self.err("E305", node, name=node.fn, detail=Bilingual("不存在", "does not exist"),
                     functions=", ".join(list(FUNCTIONS) + list(AGGREGATES)))
            return self.bad(node)
        low, high = FUNCTIONS[node.fn]
        if not low <= len(node.args) <= high:
            self.err("E305", node, name=node.fn, detail=Bilingual(f"需要 {low}–{high} 个参数", f"takes {low}–{high} arguments"),
                     functions=", ".join(FUNCTIONS))
            return self.bad(node)
        args = [self.expr(a, entity) for a in node.args]
        return self.call_type(node, node.fn, args)

    def call_type(self, node, fn, args) -> t.T:
        types = [a.type for a in args]
        if fn == "is_known":
            typ = BOOL
        elif fn == "year":
            typ = INTEGER if types[0] in (DATE, ANY) else None
        elif fn == "round" and len(args) == 2 and not (isinstance(args[1], t.TLit) and args[1].type == INTEGER):
            typ = None
        elif fn in ("min", "max"):
            typ = types[0]
            for other in types[1:]:
                typ = unify(typ, other) if typ else None
            typ = typ if typ and (typ.ordered or typ == ANY) else None
        else:
            typ = types[0] if types[0].numeric or types[0] == ANY else None
        if typ is None:
            self.err("E401", node, detail=Bilingual(f"{fn} 的参数类型不对：{', '.join(map(str, types))}",
                                                     f"{fn} does not take {', '.join(map(str, types))}"))
            return self.bad(node)
        return t.TCall(**self.base(node, typ), fn=fn, args=args)

    def is_list(self, node, entity) -> bool:
        ent = self.sym.entities.get(entity)
        return isinstance(node, ast.Name) and ent is not None and node.id in ent.children

    def r_Agg(self, node, entity, expected):
        if node.fn not in AGGREGATES:
            self.err("E305", node, name=node.fn, detail=Bilingual("不是汇总函数", "is not an aggregation"),
                     functions=", ".join(AGGREGATES))
            return self.bad(node)
        if not self.is_list(node.source, entity):
            self.err("E303", node.source, name=self.snippet(node.source))
            return self.bad(node)
        child = self.sym.entities[entity].children[node.source.id]
        where = self.condition(node.where, child) if node.where is not None else None
        of = self.expr(node.of, child) if node.of is not None else None
        fn = node.fn
        if fn in ("any", "all") and of is None:
            if fn == "all":
                self.err("E305", node, name="all", detail=Bilingual("写成 all(列表, 条件) 或 all(列表 where 筛选, 条件)",
                                                                     "is written all(list, condition) or all(list where filter, condition)"),
                         functions="all")
                return self.bad(node)
            where, of = None, where
        typ = self.agg_type(node, fn, of)
        if typ is None:
            return self.bad(node)
        return t.TAgg(**self.base(node, typ), fn=fn, field=node.source.id, child=child, where=where, of=of)

    def agg_type(self, node, fn, of) -> Type | None:
        if fn == "count":
            if of is not None:
                self.err("E305", node, name="count", detail=Bilingual("只接受筛选条件", "takes only a where filter"), functions="count")
                return None
            return INTEGER
        if of is None:
            self.err("E305", node, name=fn, detail=Bilingual(f"需要写成 {fn}(列表, 表达式)", f"is written {fn}(list, expression)"),
                     functions=fn)
            return None
        if fn in ("any", "all"):
            self.want_bool(of, node.of or node)
            return BOOL
        if fn == "sum" and not (of.type.numeric or of.type == ANY):
            self.err("E401", node.of, detail=Bilingual(f"不能对 {of.type} 求和", f"cannot sum {of.type}"))
            return None
        if fn in ("min", "max") and not (of.type.ordered or of.type == ANY):
            self.err("E401", node.of, detail=Bilingual(f"{of.type} 没有大小", f"{of.type} has no order"))
            return None
        return of.type

    # --- units

    def units_agree(self, left: t.T, right: t.T, node: ast.Node) -> bool:
        """Whether two comparable numbers also agree in unit (E407 when not): a count
        (integer) is not money or a ratio (``age >= 80元``, ``age < 80%``), and a ratio
        compared with a bare number above 1 is a percent written without ``%``."""
        clash = unit_clash(left, right) or unit_clash(right, left)
        if clash is None:
            return True
        self.err("E407", node, left=left.text, ltype=str(left.type), right=right.text, rtype=str(right.type),
                 hint=clash)
        return False

    def units_agree_sum(self, first, right: t.T, current: Type, node: ast.Node) -> bool:
        """``age + 80元``: a count added to an amount written with a unit (E407); a bare
        number takes the other side's unit, and ``+`` of like units is fine."""
        left = first if first is not None else t.TLit(type=current, span=right.span, text=self.snippet(node), value=None)
        written = [o for o in (first, right) if isinstance(o, t.TLit) and o.type.kind in _UNITS]
        if not written:
            return True  # two quantities without a written unit: their declared types decide (arith)
        clash = unit_clash(left, right) if first is not None else None
        clash = clash or unit_clash(right, left)
        if clash is None:
            return True
        self.err("E407", node, left=left.text, ltype=str(left.type), right=right.text, rtype=str(right.type), hint=clash)
        return False

    # --- decision-table cells

    def test(self, node: ast.Node, entity: str, input_type: Type) -> t.T:
        """Type a table cell against its input's type."""
        if isinstance(node, ast.TestAny):
            return t.TTestAny(**self.base(node, BOOL))
        if isinstance(node, ast.TestNot):
            return t.TTestNot(**self.base(node, BOOL), test=self.test(node.test, entity, input_type))
        if isinstance(node, ast.TestIn):
            if isinstance(node.container, ast.Interval) and not (input_type.ordered or input_type == ANY):
                self.err("E404", node, left=str(input_type), right="interval")
            return t.TTestIn(**self.base(node, BOOL), container=self.container(node.container, entity, input_type))
        op = node.op if isinstance(node, ast.TestCompare) else "=="
        value = self.expr(node.value, entity, input_type)
        if not comparable(input_type, value.type, op):
            self.err("E404", node, left=str(input_type), right=str(value.type))
        elif self.column is not None:
            self.units_agree(self.column, value, node)
        return t.TTestCompare(**self.base(node, BOOL), op=op, value=value)


_UNITS = ("money", "ratio")


def _plain_constant(node: t.T) -> bool:
    """A number written without a unit (``5000``, ``-3``): it takes the other side's unit."""
    if isinstance(node, t.TNeg):
        return _plain_constant(node.operand)
    return isinstance(node, t.TLit) and node.type.kind in ("integer", "decimal") and "%" not in node.text \
        and "元" not in node.text


def unit_clash(a: t.T, b: t.T) -> Bilingual | None:
    """Why ``a`` (money or a ratio) cannot be compared with ``b``, or None."""
    if a.type.kind not in _UNITS or b.type.kind in _UNITS or b.type.kind not in ("integer", "decimal"):
        return None
    if _plain_constant(b):
        value = b.value if isinstance(b, t.TLit) else None
        if a.type.kind == "ratio" and isinstance(value, (int, Decimal)) and not isinstance(value, bool) and abs(value) > 1:
            return Bilingual(f"比率以 1 为整体：`{b.text}` 大概是想写 `{b.text}%`",
                             f"a ratio is a fraction of 1: `{b.text}` probably means `{b.text}%`")
        return None
    if b.type.kind == "integer":
        unit = "金额（元）" if a.type.kind == "money" else "比率（%）"
        unit_en = "money (元)" if a.type.kind == "money" else "a ratio (%)"
        return Bilingual(f"`{b.text}` 是个数（整数），不是{unit}；去掉 `{a.text}` 的单位，或比较同一单位的量",
                         f"`{b.text}` is a count (integer), not {unit_en}: drop the unit of `{a.text}`, or compare like with like")
    return None


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two branches, or None."""
    if a == b or b == ANY:
        return a
    if a == ANY:
        return b
    if assignable(a, b):
        return b
    if assignable(b, a):
        return a
    if a.kind in ("integer", "decimal") and b.kind in ("integer", "decimal"):
        return DECIMAL
    return None
