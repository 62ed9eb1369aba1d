"""Lark's side of parsing: the LALR parser of grammar.lark, its tree → AST transformer,
and syntax errors in the words of the grammar (imported only when the fast reader of
:mod:`fupin.dsl.fastparse` is not sure, which never happens for a correct policy pack)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from lark import Lark, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .errors import Bilingual
from .syntax import MAX_DEPTH, MAX_NODES, ParseFailure, number, quantity

_READABLE = {
    "NAME": ("名称", "a name"), "NUMBER": ("数字", "a number"), "COMPOP": ("比较符", "a comparison"),
    "STRING": ("字符串", "a string"), "DATE": ("日期", "a date"), "UNIT": ("单位", "a unit"),
    "LPAR": ("(", "("), "RPAR": (")", ")"), "LSQB": ("[", "["), "RSQB": ("]", "]"),
    "LBRACE": ("{", "{"), "RBRACE": ("}", "}"), "COMMA": (",", ","), "COLON": (":", ":"),
    "PLUS": ("+", "+"), "MINUS": ("-", "-"), "TIMES": ("*", "*"), "DIVIDE": ("/", "/"),
    "DOT": (".", "."), "$END": ("表达式结尾", "end of expression"),
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    text = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    # cache=True keeps the built LALR tables in the temp folder (keyed by the grammar's
    # hash): building them takes longer than checking the whole policy pack.
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True, cache=True)


def parse(text: str, test: bool) -> ast.Node:
    """Parse with Lark: the definition of the language and of its syntax errors."""
    source = ("\x00" + text) if test else text
    shift = 1 if test else 0
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as exc:
        raise _failure(exc, source, shift) from None
    _check_tree(tree, shift)
    try:
        return _ToAst(shift).transform(tree)
    except VisitError as exc:  # a ParseFailure raised inside a transformer method
        if isinstance(exc.orig_exc, ParseFailure):
            raise exc.orig_exc from None
        raise


def _check_tree(tree: Tree, shift: int) -> None:
    """Depth and size limits on the parse tree, walked without recursion."""
    stack = [(tree, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        offset = max(getattr(node.meta, "start_pos", shift) - shift, 0) if not node.meta.empty else 0
        if depth > 2 * MAX_DEPTH:
            raise ParseFailure("E205", offset, limit=MAX_DEPTH)
        if count > 3 * MAX_NODES:
            raise ParseFailure("E206", offset, detail=f"more than {MAX_NODES} nodes")
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


def _failure(exc: UnexpectedInput, source: str, shift: int) -> ParseFailure:
    offset = max((exc.pos_in_stream or 0) - shift, 0) if exc.pos_in_stream is not None else len(source) - shift
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = getattr(exc, "expected", None) or getattr(exc, "accepts", None) or set()
        return ParseFailure("E202", len(source) - shift, expected=_expected(expected))
    if isinstance(exc, UnexpectedCharacters):
        found = source[exc.pos_in_stream]
        return ParseFailure("E201", offset, found=f"`{found}`", expected=_expected(exc.allowed or set()))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        return ParseFailure("E201", offset, len(str(tok)) or 1, found=f"`{tok}`",
                            expected=_expected(exc.accepts or exc.expected or set()))
    return ParseFailure("E201", offset, found="?", expected="?")


def _expected(names) -> dict:
    zh, en = [], []
    for name in sorted(names):
        if name.startswith("_") or name.startswith("__"):
            continue
        z, e = _READABLE.get(name, (name.lower(), name.lower()))
        if z not in zh:
            zh.append(z)
            en.append(e)
    return Bilingual("、".join(zh[:6]) or "?", ", ".join(en[:6]) or "?")


def _span(meta, shift: int) -> dict:
    if meta.empty:
        return {}
    return {"start": meta.start_pos - shift, "end": meta.end_pos - shift}


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree → AST; each method quotes the grammar rule it handles."""

    def __init__(self, shift: int):
        super().__init__()
        self.shift = shift

    def _s(self, meta):
        return _span(meta, self.shift)

    # atom: NUMBER -> number
    def number(self, meta, c):
        value = number(c[0])
        return ast.Num(value, "decimal" if isinstance(value, Decimal) else "integer", **self._s(meta))

    # atom: NUMBER UNIT -> quantity
    def quantity(self, meta, c):
        value, kind = quantity(str(c[0]), str(c[1]))
        return ast.Num(value, kind, **self._s(meta))

    # atom: DATE -> date
    def date(self, meta, c):
        try:
            value = dt.date.fromisoformat(str(c[0]))
        except ValueError:
            raise ParseFailure("E201", c[0].start_pos - self.shift, len(c[0]), found=f"`{c[0]}`",
                               expected=Bilingual("有效日期", "a valid date")) from None
        return ast.DateLit(value, **self._s(meta))

    # atom: STRING -> string
    def string(self, meta, c):
        return ast.Str(str(c[0])[1:-1], **self._s(meta))

    def true(self, meta, c):
        return ast.Bool(True, **self._s(meta))

    def false(self, meta, c):
        return ast.Bool(False, **self._s(meta))

    # atom: NAME -> name
    def name(self, meta, c):
        return ast.Name(str(c[0]), **self._s(meta))

    # postfix: postfix "." NAME -> attr
    def attr(self, meta, c):
        return ast.Attr(c[0], str(c[1]), **self._s(meta))

    # atom: NAME "(" [expr ("," expr)*] ")" -> call
    def call(self, meta, c):
        args = tuple(a for a in c[1:] if a is not None)
        return ast.Call(str(c[0]), args, **self._s(meta))

    # atom: NAME "(" expr _where expr [":" expr] ")" -> agg_where
    def agg_where(self, meta, c):
        return ast.Agg(str(c[0]), c[1], c[2], c[3], **self._s(meta))

    # atom: NAME "(" expr ":" expr ")" -> agg_of
    def agg_of(self, meta, c):
        return ast.Agg(str(c[0]), c[1], None, c[2], **self._s(meta))

    # unary: MINUS unary -> neg
    def neg(self, meta, c):
        return ast.Neg(c[1], **self._s(meta))

    # not_expr: _not not_expr
    def not_expr(self, meta, c):
        return ast.Not(c[0], **self._s(meta))

    # sum: product ((PLUS | MINUS) product)*  /  product: unary ((TIMES | DIVIDE) unary)*
    def sum(self, meta, c):
        ops = tuple({"×": "*", "÷": "/"}.get(str(t), str(t)) for t in c[1::2])
        return ast.Arith(tuple(c[0::2]), ops, **self._s(meta))

    product = sum

    def and_expr(self, meta, c):
        return ast.And(tuple(c), **self._s(meta))

    def or_expr(self, meta, c):
        return ast.Or(tuple(c), **self._s(meta))

    # comparison: sum (COMPOP sum)+ -> compare
    def compare(self, meta, c):
        norm = {"=": "==", "≤": "<=", "≥": ">=", "≠": "!="}
        ops = tuple(norm.get(str(t), str(t)) for t in c[1::2])
        return ast.Compare(tuple(c[0::2]), ops, **self._s(meta))

    def in_expr(self, meta, c):
        return ast.In(c[0], c[1], False, **self._s(meta))

    def not_in_expr(self, meta, c):
        return ast.In(c[0], c[1], True, **self._s(meta))

    def set_lit(self, meta, c):
        return ast.SetLit(tuple(x for x in c if x is not None), **self._s(meta))

    def _interval(self, meta, c, lo_closed, hi_closed):
        return ast.Interval(c[0], c[1], lo_closed, hi_closed, **self._s(meta))

    def interval_cc(self, meta, c):
        return self._interval(meta, c, True, True)

    def interval_co(self, meta, c):
        return self._interval(meta, c, True, False)

    def interval_oc(self, meta, c):
        return self._interval(meta, c, False, True)

    def interval_oo(self, meta, c):
        return self._interval(meta, c, False, False)

    def if_expr(self, meta, c):
        return ast.If(c[0], c[1], c[2], **self._s(meta))

    # start: _TEST_MARK unary_test -> unary_test_start
    def unary_test_start(self, meta, c):
        return c[0]

    def test_compare(self, meta, c):
        norm = {"=": "==", "≤": "<=", "≥": ">=", "≠": "!="}
        return ast.TestCompare(norm.get(str(c[0]), str(c[0])), c[1], **self._s(meta))

    def test_in(self, meta, c):
        return ast.TestIn(c[0], **self._s(meta))

    def test_not(self, meta, c):
        return ast.TestNot(c[0], **self._s(meta))

    def test_equal(self, meta, c):
        node = c[0]
        if isinstance(node, ast.Name) and node.id in ("any", "任意"):
            return ast.TestAny(**self._s(meta))
        return ast.TestEqual(node, **self._s(meta))

    def __default__(self, data, children, meta):  # pragma: no cover - grammar is closed
        raise ParseFailure("E201", 0, found=str(data), expected="?")


__all__ = ["parse"]
