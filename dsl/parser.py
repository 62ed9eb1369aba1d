"""Parse expression text into the fupin AST.

The grammar (grammar.lark, read by Lark's LALR parser in :mod:`fupin.dsl.larkparse`)
defines the language and its syntax errors. Texts are first read by
:mod:`fupin.dsl.fastparse`, a recursive-descent reader of the same grammar that gives
the same AST and answers only when it is sure; otherwise Lark parses (Lark is imported
only then). Limits are checked before and after parsing so a hostile expression
(10,000 nested brackets, a 1 MB string) is a located error, never a crash or a
RecursionError.
"""
from __future__ import annotations

from functools import lru_cache

from . import ast
from .errors import Bilingual
from .fastparse import Unsure, parse_fast
from .slips import text_slip
from .syntax import MAX_DEPTH, MAX_LENGTH, MAX_NODES, ParseFailure


def parse_expression(text: str) -> ast.Node:
    """Parse an expression; raise :class:`ParseFailure` with the offset of the problem."""
    return _parse(text, test=False)


def parse_unary_test(text: str) -> ast.Node:
    """Parse a decision-table cell such as ``< 5000`` or ``[5000, 10000)``."""
    stripped = text.strip()
    if stripped in ("any", "-", "", "任意"):
        return ast.TestAny(0, len(text))
    return _parse(text, test=True)


@lru_cache(maxsize=16384)
def _parse(text: str, test: bool) -> ast.Node:
    """Parse once per distinct text: the AST is immutable and its offsets are relative
    to the text, so the base policy and every variant share the same nodes."""
    if len(text) > MAX_LENGTH:
        raise ParseFailure("E206", MAX_LENGTH, detail=f"{len(text)} > {MAX_LENGTH} characters")
    try:
        _check_characters(text)
        _check_brackets(text)
        try:
            node = parse_fast(text, test)
        except Unsure:
            node = _parse_lark(text, test)  # Lark decides: the result, or the located error
    except ParseFailure as exc:
        hint = text_slip(text)
        if hint is not None and exc.code in ("E201", "E202"):
            exc.details["hint"] = hint
        raise
    _check_size(node, text)
    return node


def _check_size(node: ast.Node, text: str) -> None:
    """The documented limit: at most MAX_NODES nodes of the language's own tree."""
    count = 0
    for current in ast.walk(node):
        count += 1
        if count > MAX_NODES:
            raise ParseFailure("E206", current.start if current.start is not None else 0,
                               detail=f"> {MAX_NODES} nodes")


def _parse_lark(text: str, test: bool) -> ast.Node:
    """Parse with Lark: the definition of the language and of its syntax errors."""
    from .larkparse import parse

    return parse(text, test)


@lru_cache(maxsize=4096)
def referenceable(name: str) -> bool:
    """Whether an expression can name ``name``: it reads as that one name (not a
    keyword such as ``且`` or ``true``, not ``a-b``, ``2020x`` or ``has space``)."""
    try:
        node = _parse(name, test=False)
    except ParseFailure:
        return False
    return isinstance(node, ast.Name) and node.id == name and name not in RESERVED


# Words an expression reads as operators wherever they stand after an operand (a name
# spelt so parses alone, but never inside a longer expression), and the infinities.
RESERVED = frozenset(("and", "or", "not", "in", "where", "then", "else", "且", "或", "非", "则", "否则", "inf", "∞"))


def _check_characters(text: str) -> None:
    """Control characters (NUL, escape, …) are in no token of the language; NUL is also
    the marker Lark's path puts before a table cell, so it must never reach the grammar."""
    for i, ch in enumerate(text):
        if ch < " " and ch not in "\t\n\r" or ch == "\x7f":
            raise ParseFailure("E201", i, found=f"U+{ord(ch):04X}",
                               expected=Bilingual("可见字符（删去这个控制字符）", "a visible character (delete this control character)"))


def _check_brackets(text: str) -> None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseFailure("E205", i, limit=MAX_DEPTH)
        elif ch in ")]}":
            depth = max(depth - 1, 0)


__all__ = ["parse_expression", "parse_unary_test", "referenceable", "ParseFailure"]
