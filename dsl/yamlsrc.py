"""Read YAML keeping where every value came from.

Rule files and fact files are read into plain Python data (dict, list, str, int,
Decimal, bool, date, None) plus a :class:`Positions` index from a key path to the
:class:`Span` of the value, so that every later stage can report `file:line:col`.

Floats are read as exact ``Decimal`` (money is never a binary float). Anchors and
aliases are refused (E102): they are how "billion laughs" files blow up. Only the YAML
core schema is read: an explicit tag other than ``!!str !!int !!float !!bool !!null
!!seq !!map`` (``!!timestamp``, ``!!binary``, ``!!set``, ``!!python/…``, ``!custom``)
and the merge key ``<<`` are refused (E821), located at the tag. Numbers follow YAML 1.2:
``012`` is twelve (not octal ten) and ``1:20`` is text (not sexagesimal 80); a number
written with more than ``MAX_NUMBER_TEXT`` characters, or an impossible date such as
``2020-02-30``, is kept as its text, so that the field that receives it reports it
(E820/E802) without costing the rest of the file.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import yaml
from yaml.composer import Composer
from yaml.composer import ComposerError
from yaml.events import (AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentEndEvent,
                         DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent)

from .coerce import MAX_NUMBER_TEXT
from .errors import Bilingual, Diagnostic, FupinError, Span, error
from .slips import text_slip, yaml_problem

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
    """Key path (tuple of keys and indices) → Scalar/Span of the value at that path.

    Places are kept as numbers, (line, col, style) per value and (line, col) per key,
    1-based; a Span is made only for the few places that are asked for.
    """

    def __init__(self, file: str, raw_lines: tuple[str, ...]):
        self.file = file
        self.raw_lines = raw_lines
        self.value_marks: dict[tuple, tuple] = {}
        self.key_marks: dict[tuple, tuple] = {}

    @property
    def values(self) -> dict[tuple, Scalar]:
        """Every value's Scalar (made on demand)."""
        return {path: self._scalar(mark) for path, mark in self.value_marks.items()}

    @property
    def keys(self) -> dict[tuple, Span]:
        """Every key's Span (made on demand)."""
        return {path: Span(self.file, mark[0], mark[1]) for path, mark in self.key_marks.items()}

    def _scalar(self, mark: tuple) -> Scalar:
        return Scalar(Span(self.file, mark[0], mark[1]), mark[2])

    def key_at(self, path: tuple) -> Span | None:
        """The span of the key that introduces ``path``, if there is one."""
        mark = self.key_marks.get(path)
        return None if mark is None else Span(self.file, mark[0], mark[1])

    def span(self, path: tuple) -> Span:
        """The span of the value at ``path``, or of its nearest located ancestor."""
        path = tuple(path)
        values, keys = self.value_marks, self.key_marks
        while path:
            mark = values.get(path) or keys.get(path)
            if mark is not None:
                return Span(self.file, mark[0], mark[1])
            path = path[:-1]
        mark = values.get(())
        return Span(self.file, 1, 1) if mark is None else Span(self.file, mark[0], mark[1])

    def key_span(self, path: tuple) -> Span:
        """The span of the key that introduces ``path`` (falls back to the value)."""
        return self.key_at(tuple(path)) or self.span(path)

    def expr_span(self, path: tuple, text: str, offset: int) -> Span:
        """The span of character ``offset`` of the expression stored at ``path``."""
        mark = self.value_marks.get(tuple(path))
        if mark is None:
            return self.span(path)
        return self._scalar(mark).at(text, offset, self.raw_lines)


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
        _screen_tag(event)
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


_CORE = "tag:yaml.org,2002:"
CORE_TAGS = frozenset(_CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map"))
"""The explicit tags read (YAML's core schema); ``!`` (non-specific) is plain text."""


class _TagFound(Exception):
    def __init__(self, mark, tag: str):
        self.mark, self.tag = mark, tag


def _screen_tag(event) -> None:
    """Refuse an explicit tag outside the core schema (raised as E821 at the tag)."""
    tag = getattr(event, "tag", None)
    if tag is not None and tag != "!" and tag not in CORE_TAGS:
        raise _TagFound(event.start_mark, tag)


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def load_yaml(text: str, file: str) -> tuple[object, Positions]:
    """Parse YAML text into plain data and positions; raise FupinError on any problem."""
    raw_lines = tuple(text.splitlines())
    pos = Positions(file, raw_lines)
    try:
        if _FAST is not None:
            events, loader = _events(text)
        else:
            node = _compose(text)
    except _AliasFound as exc:
        raise FupinError(error("E102", _span(file, exc.mark))) from None
    except _TagFound as exc:
        raise FupinError(error("E821", _span(file, exc.mark), tag=_show_tag(exc.tag))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FupinError(_syntax_error(file, mark, raw_lines, exc.problem, exc.context)) from None
    except yaml.YAMLError as exc:
        raise FupinError(_syntax_error(file, None, raw_lines, str(exc), None)) from None
    except RecursionError:
        raise FupinError(error("E101", Span(file, 1, 1), detail=_nesting())) from None
    if _FAST is not None:
        return _build(events, loader, pos)
    if node is None:
        return None, pos
    return _convert(node, (), pos, 0), pos


def _syntax_error(file: str, mark, raw_lines: tuple, problem, context) -> Diagnostic:
    """PyYAML's complaint in fupin's words, with a hint for a slip on the line or the
    few lines before it (where a full-width colon or a tab usually is: YAML notices it
    only later)."""
    span = _span(file, mark)
    line = raw_lines[span.line - 1] if 0 < span.line <= len(raw_lines) else ""
    at = line[span.col - 1] if 0 < span.col <= len(line) else ""
    detail = yaml_problem(problem, context, at)
    lines = [raw_lines[i] for i in range(span.line - 1, span.line - 5, -1) if 0 <= i < len(raw_lines)]
    hint = next((h for h in map(text_slip, lines) if h is not None), None)
    args = {"hint": hint} if hint is not None else {}
    return error("E101", span, detail=detail, **args)


def _nesting() -> Bilingual:
    return Bilingual(f"嵌套超过 {MAX_DEPTH} 层", f"nesting deeper than {MAX_DEPTH}")


def _plain_keys() -> Bilingual:
    return Bilingual("键须为简单的值（文本、数字、日期）", "keys must be plain values (text, numbers, dates)")


def _events(text: str) -> tuple[list, object]:
    """libyaml's events of the one document, screened as `_compose` screens them.

    The same problems in the same order as screening the events and then composing
    them with libyaml's composer: aliases, nesting, syntax (while reading), then the
    composer's own (a duplicate anchor, a second document).
    """
    loader = _FastLoader(text)
    events: list = []
    composer_error = None
    anchors: dict = {}
    documents = 0
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            cls = event.__class__
            if cls is AliasEvent:
                raise _AliasFound(event.start_mark)
            if getattr(event, "tag", None) is not None:
                _screen_tag(event)
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise RecursionError
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1
            elif cls is DocumentStartEvent:
                documents += 1
                if documents == 2 and composer_error is None:
                    composer_error = ComposerError("expected a single document in the stream", events[1].start_mark,
                                                   "but found another document", event.start_mark)
            if documents <= 1:
                anchor = getattr(event, "anchor", None)
                if anchor is not None and composer_error is None:
                    if anchor in anchors:
                        composer_error = ComposerError("found duplicate anchor; first occurrence", anchors[anchor],
                                                       "second occurrence", event.start_mark)
                    else:
                        anchors[anchor] = event.start_mark
                events.append(event)
    finally:
        loader.dispose()
    if composer_error is not None:
        raise composer_error
    return events, loader


_STR = "tag:yaml.org,2002:str"
_CONSTANT_TAGS = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
                            "tag:yaml.org,2002:timestamp"))


def _build(events: list, loader, pos: Positions):
    """Plain data and positions from the events of `_events` (what `_convert` makes
    of libyaml's composed nodes, without building the nodes)."""
    if len(events) < 3:  # StreamStart [DocumentStart ...]: no document
        return None, pos
    file = pos.file
    values, keys = pos.value_marks, pos.key_marks
    resolve, cache = loader.resolve, {}
    constants: dict = {}

    def scalar(event):
        tag = event.tag
        if tag is None or tag == "!":
            ckey = (event.value, event.implicit)
            tag = cache.get(ckey)
            if tag is None:
                tag = cache[ckey] = resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR:
            return event.value
        if tag in _CONSTANT_TAGS:
            ckey = (tag, event.value)
            if ckey in constants:
                return constants[ckey]
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        value = _scalar(node, pos)
        if tag in _CONSTANT_TAGS:
            constants[ckey] = value
        return value

    it = iter(events)
    next(it)  # StreamStart
    next(it)  # DocumentStart
    # Each open collection: [container, path, is_mapping, pending key or _NO_KEY].
    stack: list = []
    root = None
    for event in it:
        cls = event.__class__
        if cls is DocumentEndEvent:
            break
        if cls is MappingEndEvent or cls is SequenceEndEvent:
            done = stack.pop()
            value = done[0]
            if not stack:
                root = value
                continue
            _store(stack[-1], value)
            continue
        top = stack[-1] if stack else None
        if top is not None and top[2] and top[3] is _NO_KEY:
            # a mapping key
            if cls is not ScalarEvent:
                raise FupinError(error("E101", _span(file, event.start_mark), detail=_plain_keys()))
            key = scalar(event)
            if key is None or isinstance(key, (list, dict)):
                raise FupinError(error("E101", _span(file, event.start_mark), detail=_plain_keys()))
            key = key.isoformat() if isinstance(key, dt.date) else key
            container, path = top[0], top[1]
            if key in container:
                raise FupinError(error("E104", _span(file, event.start_mark), name=key,
                                       first=str(pos.key_at(path + (key,)))))
            mark = event.start_mark
            keys[path + (key,)] = (mark.line + 1, mark.column + 1)
            container[key] = None  # keeps the key's place; the value follows
            top[3] = key
            continue
        if top is None:
            path = ()
        elif top[2]:
            path = top[1] + (top[3],)
        else:
            path = top[1] + (len(top[0]),)
        if cls is ScalarEvent:
            mark = event.start_mark
            values[path] = (mark.line + 1, mark.column + 1, event.style)
            value = scalar(event)
            if top is None:
                root = value
            else:
                _store(top, value)
        elif cls is MappingStartEvent:
            mark = event.start_mark
            values[path] = (mark.line + 1, mark.column + 1, None)
            stack.append([{}, path, True, _NO_KEY])
        else:  # SequenceStartEvent
            mark = event.start_mark
            values[path] = (mark.line + 1, mark.column + 1, None)
            stack.append([[], path, False, _NO_KEY])
    return root, pos


_NO_KEY = object()


def _store(top: list, value) -> None:
    if top[2]:
        top[0][top[3]] = value
        top[3] = _NO_KEY
    else:
        top[0].append(value)


def _span(file: str, mark) -> Span:
    if mark is None:
        return Span(file, 1, 1)
    return Span(file, mark.line + 1, mark.column + 1)


_constructor = yaml.SafeLoader("")


def _convert(node, path: tuple, pos: Positions, depth: int):
    if depth > MAX_DEPTH:
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=_nesting()))
    pos.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1, getattr(node, "style", None))
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, pos) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                raise FupinError(error("E101", _span(pos.file, key_node.start_mark), detail=_plain_keys()))
            key = key.isoformat() if isinstance(key, dt.date) else key
            if key in out:
                raise FupinError(error("E104", _span(pos.file, key_node.start_mark), name=key,
                                       first=str(pos.key_at(path + (key,)))))
            pos.key_marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, path + (key,), pos, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), pos, depth + 1) for i, item in enumerate(node.value)]
    return _scalar(node, pos)


def _scalar(node, pos: Positions):
    tag = node.tag
    try:
        if tag == "tag:yaml.org,2002:float":
            return _float(node)
        if tag == "tag:yaml.org,2002:int":
            return _int(node.value)
        if tag == "tag:yaml.org,2002:merge":
            raise FupinError(error("E821", _span(pos.file, node.start_mark), tag="<<"))
        if tag == "tag:yaml.org,2002:timestamp":  # implicit only: explicit tags are screened
            return _timestamp(node)
        return _constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=yaml_problem(exc.problem))) from None
    except (ValueError, KeyError, TypeError, OverflowError):  # !!int x, !!bool x, !!float x
        detail = Bilingual(f"`{node.value[:40]}` 不是 {_show_tag(tag)}", f"`{node.value[:40]}` is not {_show_tag(tag)}")
        raise FupinError(error("E101", _span(pos.file, node.start_mark), detail=detail)) from None


def _float(node):
    """A float scalar as an exact Decimal (``.inf``/``.nan`` as floats, for the reader
    of the value to refuse); a YAML 1.1 sexagesimal or an overlong one stays text."""
    text = node.value
    if ":" in text or len(text) > MAX_NUMBER_TEXT:
        return text
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return _constructor.construct_object(node)  # .inf / .nan, or ValueError


def _int(text: str):
    """A YAML int as YAML 1.2 reads it: decimal even with a leading zero (``012`` is
    twelve); ``0x``/``0b`` prefixes; a sexagesimal ``1:20`` or an overlong number stays
    text (Python refuses ints of more than 4,300 digits, and no field takes them)."""
    body = text.replace("_", "")
    if ":" in body or len(body) > MAX_NUMBER_TEXT:
        return text
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    for prefix, base in (("0x", 16), ("0b", 2), ("0o", 8)):
        if body.startswith(prefix):
            return sign * int(body[2:], base)
    return sign * int(body, 10)


def _timestamp(node):
    """A date or datetime; an impossible one (``2020-02-30``) stays text."""
    try:
        return _constructor.construct_object(node)
    except ValueError:
        return node.value


def load_yaml_file(path: str) -> tuple[object, Positions]:
    """Read and parse one YAML file (see :func:`load_yaml`)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        detail = Bilingual("不是 UTF-8 编码的文本", "not UTF-8 text") if isinstance(exc, UnicodeDecodeError) else \
            Bilingual("无法打开此文件", "the file cannot be opened")
        raise FupinError(error("E107", Span(path, 1, 1), path=path, detail=detail)) from None
    return load_yaml(text, path)


__all__ = ["load_yaml", "load_yaml_file", "Positions", "Scalar", "Diagnostic"]
