"""A recursive-descent reading of the expression grammar, for expressions that parse.

Lark's LALR parser (dsl/larkparse.py + grammar.lark) is the definition of the language
and of its error messages; building its parse tree, propagating positions and
transforming the tree costs about 0.4 ms per expression, most of checking the policy
pack. This module reads the same grammar directly into the same AST, with the same
offsets (Lark's position rules: a node spans its first to its last symbol, and a
parenthesised operand counts with its brackets in the node around it).

It only answers when it is sure: anything unusual — any syntax error, a word where
an operator belongs (Lark's contextual lexer would split ``andy`` into ``and y``),
a keyword where Lark would read a name, an invalid date, a long or deep expression
near the limits — raises :class:`Unsure`, and the caller parses with Lark, which
gives the result or the located error exactly as before. tests/test_dsl_fastpaths.py
compares the two on every expression of the repository and on generated ones.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from . import ast
from .syntax import MAX_DEPTH as LARK_DEPTH, MAX_NODES as LARK_NODES, number, quantity

# The terminals of grammar.lark, as Lark compiles them.
_WS = re.compile(r"[ \t\r\n\u3000]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_STRING = re.compile("(?:\"[^\"\n]*\"|'[^'\n]*'|“[^”\n]*”)")
_NAME = re.compile(r"[^\W\d]\w*")
_UNIT = re.compile("(?:万元|亿元|元|万|%|％)")
_COMPOP = re.compile("(?:==|!=|<=|>=|<|>|=|≤|≥|≠)")
_KEYWORDS = {"if": "if", "如果": "if", "then": "then", "则": "then", "else": "else", "否则": "else",
             "or": "or", "或": "or", "and": "and", "且": "and", "not": "not", "非": "not", "in": "in",
             "where": "where", "true": "true", "是": "true", "false": "false", "否": "false"}
_PUNCT = {"+": "+", "-": "-", "*": "*", "×": "*", "/": "/", "÷": "/", "(": "(", ")": ")", "[": "[", "]": "]",
          "{": "{", "}": "}", ",": ",", ":": ":", ".": "."}
_NORM = {"=": "==", "≤": "<=", "≥": ">=", "≠": "!="}

READ_DEPTH = 30  # nested expressions read here; deeper ones go to Lark (and its limits)
SMALL = 90  # an AST of at most this many nodes is within Lark's limits (see _within_limits)


class Unsure(Exception):
    """Not something this reader answers for: parse with Lark instead."""


def parse_fast(text: str, test: bool) -> ast.Node:
    """The AST Lark's path gives for ``text``, or raise :class:`Unsure`."""
    reader = _Reader(text)
    node = reader.unary_test() if test else reader.expr()[0]
    if reader.kind() != "eof":
        raise Unsure
    if reader.count > SMALL and not _within_limits(node, reader.count + 1):
        raise Unsure
    return node


def _within_limits(node, count: int) -> bool:
    # Lark's tree has up to 3 × MAX_NODES nodes and 2 × MAX_DEPTH levels (larkparse._check_tree).
    if count >= 3 * LARK_NODES:
        return False
    stack = [(node, 2)]  # Lark's tree has one level above the AST (the start rule)
    while stack:
        current, depth = stack.pop()
        if depth >= 2 * LARK_DEPTH:
            return False
        stack.extend((c, depth + 1) for c in ast.children(current))
    return True


class _Reader:
    """Reads on demand: what a token is depends on where it stands, as in Lark's
    contextual lexer (a unit only right after a number, a word after an operand only
    as a keyword)."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0
        self.count = 0
        self._tok = None  # (kind, value, start, end) read at self.pos, not yet taken

    # --- tokens

    def _read(self):
        text = self.text
        i = _WS.match(text, self.pos).end()
        if i >= len(text):
            return ("eof", "", i, i)
        m = _DATE.match(text, i)
        if m:
            return ("date", m.group(), i, m.end())
        m = _NUMBER.match(text, i)
        if m:
            return ("number", m.group(), i, m.end())
        m = _STRING.match(text, i)
        if m:
            return ("string", m.group(), i, m.end())
        m = _NAME.match(text, i)
        if m:
            word = m.group()
            kw = _KEYWORDS.get(word)
            return ("kw:" + kw if kw else "name", word, i, m.end())
        m = _COMPOP.match(text, i)
        if m:
            return ("compop", m.group(), i, m.end())
        ch = text[i]
        kind = _PUNCT.get(ch)
        if kind is None:
            raise Unsure
        return (kind, ch, i, i + 1)

    def peek(self):
        if self._tok is None:
            self._tok = self._read()
        return self._tok

    def kind(self) -> str:
        return self.peek()[0]

    def take(self):
        tok = self.peek()
        self.pos = tok[3]
        self._tok = None
        return tok

    def expect(self, kind: str):
        tok = self.peek()
        if tok[0] != kind:
            raise Unsure
        return self.take()

    def after_operand(self) -> str:
        """The kind of the token after an operand: an operator, a keyword or punctuation
        (a name, number, string or date here is not what Lark would read)."""
        kind = self.peek()[0]
        if kind in ("name", "number", "date", "string"):
            raise Unsure
        return kind

    def node(self, cls, *args, start: int, end: int):
        self.count += 1
        return cls(*args, start=start, end=end)

    def deeper(self):
        self.depth += 1
        if self.depth > READ_DEPTH:
            raise Unsure

    # --- expressions: each returns (node, container start, container end)

    def expr(self):
        self.deeper()
        if self.kind() == "kw:if":
            start = self.take()[2]
            cond = self.expr()[0]
            self.expect("kw:then")
            then = self.expr()[0]
            self.expect("kw:else")
            else_, _, end = self.expr()
            out = self.node(ast.If, cond, then, else_, start=start, end=end)
            result = (out, start, end)
        else:
            result = self.chain("kw:or", ast.Or, self.and_expr)
        self.depth -= 1
        return result

    def and_expr(self):
        return self.chain("kw:and", ast.And, self.not_expr)

    def chain(self, keyword, cls, operand):
        first = operand()
        if self.after_operand() != keyword:
            return first
        items = [first]
        while self.after_operand() == keyword:
            self.take()
            items.append(operand())
        start, end = items[0][1], items[-1][2]
        return (self.node(cls, tuple(i[0] for i in items), start=start, end=end), start, end)

    def not_expr(self):
        if self.kind() == "kw:not":
            self.deeper()
            start = self.take()[2]
            operand, _, end = self.not_expr()
            self.depth -= 1
            return (self.node(ast.Not, operand, start=start, end=end), start, end)
        return self.comparison()

    def comparison(self):
        first = self.sum()
        kind = self.after_operand()
        if kind == "compop":
            operands, ops = [first], []
            while self.after_operand() == "compop":
                op = self.take()[1]
                ops.append(_NORM.get(op, op))
                operands.append(self.sum())
            start, end = operands[0][1], operands[-1][2]
            node = self.node(ast.Compare, tuple(o[0] for o in operands), tuple(ops), start=start, end=end)
            return (node, start, end)
        if kind == "kw:in" or kind == "kw:not":
            negated = kind == "kw:not"
            self.take()
            if negated:
                self.expect("kw:in")
            container, _, end = self.container()
            start = first[1]
            return (self.node(ast.In, first[0], container, negated, start=start, end=end), start, end)
        return first

    def container(self):
        kind = self.kind()
        if kind == "{":
            return self.set_lit()
        if kind == "[" or kind == "(":
            return self.interval(self.take())
        raise Unsure

    def set_lit(self):
        start = self.take()[2]
        items = []
        if self.kind() != "}":
            items.append(self.expr()[0])
            while self.after_operand() == ",":
                self.take()
                items.append(self.expr()[0])
        end = self.expect("}")[3]
        return (self.node(ast.SetLit, tuple(items), start=start, end=end), start, end)

    def interval(self, opening):
        lo = self.expr()[0]
        self.expect(",")
        hi = self.expr()[0]
        closing = self.take()
        if closing[0] not in ("]", ")"):
            raise Unsure
        start, end = opening[2], closing[3]
        node = self.node(ast.Interval, lo, hi, opening[0] == "[", closing[0] == "]", start=start, end=end)
        return (node, start, end)

    def sum(self):
        return self.arith(("+", "-"), self.product)

    def product(self):
        return self.arith(("*", "/"), self.unary)

    def arith(self, kinds, operand):
        first = operand()
        if self.after_operand() not in kinds:
            return first
        operands, ops = [first], []
        while self.after_operand() in kinds:
            ops.append(self.take()[0])
            operands.append(operand())
        start, end = operands[0][1], operands[-1][2]
        node = self.node(ast.Arith, tuple(o[0] for o in operands), tuple(ops), start=start, end=end)
        return (node, start, end)

    def unary(self):
        if self.kind() == "-":
            self.deeper()
            start = self.take()[2]
            operand, _, end = self.unary()
            self.depth -= 1
            return (self.node(ast.Neg, operand, start=start, end=end), start, end)
        return self.postfix()

    def postfix(self):
        out = self.atom()
        while self.after_operand() == ".":
            self.take()
            name = self.expect("name")  # a keyword here Lark reads as a name: left to Lark
            start, end = out[1], name[3]
            out = (self.node(ast.Attr, out[0], name[1], start=start, end=end), start, end)
        return out

    def atom(self):
        kind, value, start, end = self.take()
        if kind == "number":
            m = _UNIT.match(self.text, _WS.match(self.text, end).end())
            if m:
                self.pos, self._tok = m.end(), None
                return self.quantity(value, m.group(), start, m.end())
            num = number(value)
            kind = "decimal" if isinstance(num, Decimal) else "integer"
            return (self.node(ast.Num, num, kind, start=start, end=end), start, end)
        if kind == "name":
            if self.after_operand() == "(":
                return self.call(value, start)
            return (self.node(ast.Name, value, start=start, end=end), start, end)
        if kind == "(":
            inner = self.expr()[0]
            close = self.expect(")")[3]
            return (inner, start, close)
        if kind == "string":
            return (self.node(ast.Str, value[1:-1], start=start, end=end), start, end)
        if kind == "kw:true" or kind == "kw:false":
            return (self.node(ast.Bool, kind == "kw:true", start=start, end=end), start, end)
        if kind == "date":
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                raise Unsure from None
            return (self.node(ast.DateLit, day, start=start, end=end), start, end)
        raise Unsure

    def quantity(self, digits: str, unit: str, start: int, end: int):
        value, kind = quantity(digits, unit)
        return (self.node(ast.Num, value, kind, start=start, end=end), start, end)

    def call(self, fn: str, start: int):
        self.take()  # (
        if self.kind() == ")":
            end = self.take()[3]
            return (self.node(ast.Call, fn, (), start=start, end=end), start, end)
        first = self.expr()[0]
        kind = self.after_operand()
        if kind == "kw:where":
            self.take()
            where = self.expr()[0]
            of = None
            if self.after_operand() in (",", ":"):
                self.take()
                of = self.expr()[0]
            end = self.expect(")")[3]
            return (self.node(ast.Agg, fn, first, where, of, start=start, end=end), start, end)
        if kind == ":":
            self.take()
            of = self.expr()[0]
            end = self.expect(")")[3]
            return (self.node(ast.Agg, fn, first, None, of, start=start, end=end), start, end)
        args = [first]
        while self.after_operand() == ",":
            self.take()
            args.append(self.expr()[0])
        end = self.expect(")")[3]
        return (self.node(ast.Call, fn, tuple(args), start=start, end=end), start, end)

    # --- decision-table cells

    def unary_test(self):
        self.deeper()
        kind = self.kind()
        if kind == "compop":
            op, start = self.take()[1:3]
            value, _, end = self.sum()
            out = self.node(ast.TestCompare, _NORM.get(op, op), value, start=start, end=end)
        elif kind == "[" or kind == "{":
            container, start, end = self.interval(self.take()) if kind == "[" else self.set_lit()
            out = self.node(ast.TestIn, container, start=start, end=end)
        elif kind == "(":
            raise Unsure  # an interval or a bracketed value: Lark tells them apart
        elif kind == "kw:not":
            start = self.take()[2]
            test = self.unary_test()
            out = self.node(ast.TestNot, test, start=start, end=test.end)
        else:
            value, start, end = self.sum()
            if isinstance(value, ast.Name) and value.id in ("any", "任意"):
                out = self.node(ast.TestAny, start=start, end=end)
            else:
                out = self.node(ast.TestEqual, value, start=start, end=end)
        self.depth -= 1
        return out
