"""Read YAML keeping where every value came from.

Rule files and fact files are read into plain Python data (dict, list, str, int,
Decimal, bool, date, None) plus a :class:`Positions` index from a key path to the
:class:`Span` of the value, so that every later stage can report `file:line:col`.

Floats are read as exact ``Decimal`` (money is never a binary float). Anchors and
aliases are refused (E102): they are how "billion laughs" files blow up.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

from .errors import Diagnostic, FupinError, Span, error

MAX_DEPTH = 64


@dataclass(frozen=True)
class Scalar:
    """Where a scalar sits and how it was written, to place errors inside it."""

    span: Span
    style: str | None  # None plain, "'" or '"' quoted, "|" or ">" block

    def at(self, text: str, offset: int, raw_lines: tuple[str, ...] | None = None) -> Span:
        """The span of character ``offset`` of the scalar's text."""
        before = text[:offset]
        nl = before.count("\n")
        if self.style in ("|", ">") and raw_lines is not None:
            line_no = self.span.line + 1 + nl
            raw = raw_lines[line_no - 1] if line_no - 1 < len(raw_lines) else ""
            indent = len(raw) - len(raw.lstrip(" "))
            col = len(before) - (before.rfind("\n") + 1)
            return Span(self.span.file, line_no, indent + col + 1)
        if nl:
            return self.span  # folded plain/quoted scalar: the start is the honest place
        quote = 1 if self.style in ("'", '"') else 0
        return Span(self.span.file, self.span.line, self.span.col + quote + offset)


class Positions:
    """Key path (tuple of keys and indices) → Scalar/Span of the value at that path."""

    def __init__(self, file: str, raw_lines: tuple[str, ...]):
        self.file = file
        self.raw_lines = raw_lines
        self.values: dict[tuple, Scalar] = {}
        self.keys: dict[tuple, Span] = {}

    def span(self, path: tuple) -> Span:
        """The span of the value at ``path``, or of its nearest located ancestor."""
        path = tuple(path)
        while path:
            if path in self.values:
                return self.values[path].span
            if path in self.keys:
                return self.keys[path]
            path = path[:-1]
        return self.values.get((), Scalar(Span(self.file, 1, 1), None)).span

    def key_span(self, path: tuple) -> Span:
        """The span of the key that introduces ``path`` (falls back to the value)."""
        return self.keys.get(tuple(path)) or self.span(path)

    def expr_span(self, path: tuple, text: str, offset: int) -> Span:
        """The span of character ``offset`` of the expression stored at ``path``."""
        scalar = self.values.get(tuple(path))
        if scalar is None:
            return self.span(path)
        return scalar.at(text, offset, self.raw_lines)


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader whose composer refuses aliases instead of sharing nodes."""

    def compose_node(self, parent, index):  # noqa: D102 - pyyaml hook
        if self.check_event(AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise _AliasFound(mark)
        return Composer.compose_node(self, parent, index)


# YAML 1.2 booleans: only true/false. YAML 1.1 also reads on/off/yes/no/y/n as booleans,
# which turns the key `on:` (the as-of date of a test case) into True.
_NoAliasLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _NoAliasLoader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))


# libyaml (C) when present: composing the pack in pure Python took seconds. Aliases and
# nesting are screened on libyaml's event stream first (it keeps its own stack, so a
# hostile file cannot exhaust ours), then the C composer builds the nodes.
_FAST = getattr(yaml, "CSafeLoader", None)
if _FAST is not None:
    class _FastLoader(_FAST):
        """libyaml's safe loader with the same YAML 1.2 booleans."""

    _FastLoader.yaml_implicit_resolvers = _NoAliasLoader.yaml_implicit_resolvers


def _compose(text: str):
    if _FAST is None:
        return yaml.compose(text, Loader=_NoAliasLoader)
    depth = 0
    for event in yaml.parse(text, Loader=_FastLoader):
        if isinstance(event, AliasEvent):
            raise _AliasFound(event.start_mark)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecursionError
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return yaml.compose(text, Loader=_FastLoader)


class _AliasFound(Exception):
    def __init__(self, mark):
        self.mark = mark


def load_yaml(text: str, file: str) -> tuple[object, Positions]:
    """Parse YAML text into plain data and positions; raise FupinError on any problem."""
    raw_lines = tuple(text.splitlines())
    pos = Positions(file, raw_lines)
    try:
        node = _compose(text)
    except _AliasFound as exc:
        raise FupinError(error("E102", _span(file, exc.mark))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or str(exc)
        raise FupinError(error("E101", _span(file, mark), detail=detail)) from None
    except yaml.YAMLError as exc:
        raise FupinError(error("E101", Span(file, 1, 1), detail=str(exc))) from None
    except RecursionError:
        raise FupinError(error("E101", Span(file, 1, 1), detail=f"nesting deeper than {MAX_DEPTH}")) from None
    if node is None:
        return None, pos
    return _convert(node, (), pos, 0), pos


def _span(file: str, mark) -> Span:
    if mark is None:
        return Span(file, 1, 1)
    return Span(file, mark.line + 1, mark.column + 1)


_constructor = yaml.SafeLoader("")


def _convert(node, path: tuple, pos: Positions, depth: int):
    if depth > MAX_DEPTH:
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=f"nesting deeper than {MAX_DEPTH}"))
    pos.values[path] = Scalar(_span(pos.file, node.start_mark), getattr(node, "style", None))
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, pos) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                raise FupinError(error("E101", _span(pos.file, key_node.start_mark), detail="keys must be plain values"))
            key = key.isoformat() if isinstance(key, dt.date) else key
            if key in out:
                raise FupinError(error("E104", _span(pos.file, key_node.start_mark), name=key,
                                       first=str(pos.keys.get(path + (key,)))))
            pos.keys[path + (key,)] = _span(pos.file, key_node.start_mark)
            out[key] = _convert(value_node, path + (key,), pos, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), pos, depth + 1) for i, item in enumerate(node.value)]
    return _scalar(node, pos)


def _scalar(node, pos: Positions):
    if node.tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(node.value.replace("_", ""))
        except InvalidOperation:
            return _constructor.construct_object(node)  # .inf / .nan
    try:
        return _constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=str(exc.problem))) from None
    except ValueError as exc:  # e.g. an impossible date 2020-02-30
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=str(exc))) from None


def load_yaml_file(path: str) -> tuple[object, Positions]:
    """Read and parse one YAML file (see :func:`load_yaml`)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise FupinError(error("E107", Span(path, 1, 1), path=path, detail=str(exc))) from None
    return load_yaml(text, path)


__all__ = ["load_yaml", "load_yaml_file", "Positions", "Scalar", "Diagnostic"]
