"""One error type for the whole pipeline: a stable code, a bilingual message, a location
and a hint.

Every diagnostic fupin reports (YAML, schema, syntax, names, types, cycles, tables,
parameters, facts, runtime) is a :class:`Diagnostic`. The catalogue of codes lives in
:mod:`fupin.dsl.codes`; this module only knows how to hold and render one.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .codes import CODES


@dataclass(frozen=True, order=True)
class Span:
    """A place in a file: 1-based line and column (column counted in characters)."""

    file: str
    line: int
    col: int

    def shift(self, offset_line: int, offset_col: int) -> "Span":
        """A span moved by an offset found inside an expression that starts here."""
        if offset_line == 0:
            return Span(self.file, self.line, self.col + offset_col)
        return Span(self.file, self.line + offset_line, offset_col + 1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning with a stable code, a location and message arguments.

    The message and hint are rendered from the code's templates in the catalogue, so
    the same diagnostic reads in Chinese or English.
    """

    code: str
    span: Span
    args: dict = field(default_factory=dict, compare=False, hash=False)
    caret_len: int = field(default=1, compare=False)

    @property
    def severity(self) -> str:
        """``error``, ``warning``, or ``info`` (I9xx: a declared reading, listed for audit)."""
        return {"W": "warning", "I": "info"}.get(self.code[:1], "error")

    def message(self, lang: str = "zh") -> str:
        return _fill(CODES[self.code].message[lang], self.args, lang)

    def hint(self, lang: str = "zh") -> str | None:
        hint = self.args.get("hint")
        if isinstance(hint, dict):
            return visible(hint.get(lang) or hint.get("zh"))
        if hint:
            return visible(str(hint))
        template = CODES[self.code].hint
        return _fill(template[lang], self.args, lang) if template else None

    def sort_key(self):
        return (self.span.file, self.span.line, self.span.col, self.code)

    def render(self, lang: str = "zh") -> str:
        """`path:line:col: error[CODE]: message`, the source line, a caret and a hint."""
        head = f"{self.span}: {self.severity}[{self.code}]: {self.message(lang)}"
        lines = [head]
        src = source_line(self.span.file, self.span.line)
        if src is not None:
            lines.append(f"  {src}")
            pad = _display_width(src[: max(self.span.col - 1, 0)])
            lines.append("  " + " " * pad + "^" * max(self.caret_len, 1))
        hint = self.hint(lang)
        if hint:
            lines.append(f"  = {'提示' if lang == 'zh' else 'hint'}: {hint}")
        return "\n".join(lines)

    def to_json(self, lang: str = "zh") -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.span.file,
            "line": self.span.line,
            "col": self.span.col,
            "message": self.message(lang),
            "hint": self.hint(lang),
        }


class Bilingual(dict):
    """A message argument with a zh and an en rendering ({"zh": …, "en": …})."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh=zh, en=en)


class FupinError(Exception):
    """Raised when a stage cannot go on; carries one or more diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__(self.render("en"))

    def __reduce__(self):
        # pickled as its diagnostics (a batch worker process hands it back, workers.py)
        return (type(self), (self.diagnostics,))

    @property
    def code(self) -> str:
        return self.diagnostics[0].code

    def render(self, lang: str = "zh") -> str:
        return "\n".join(d.render(lang) for d in self.diagnostics)


def error(code: str, span: Span, caret_len: int = 1, **args) -> Diagnostic:
    """Shorthand used by every stage to make a diagnostic."""
    return Diagnostic(code, span, args, caret_len)


def render_all(diags: list[Diagnostic], lang: str = "zh") -> str:
    """Sorted, rendered, separated by blank lines, with a closing count."""
    ordered = sorted(diags, key=Diagnostic.sort_key)
    errors = sum(d.severity == "error" for d in ordered)
    warnings = sum(d.severity == "warning" for d in ordered)
    infos = len(ordered) - errors - warnings
    body = "\n\n".join(d.render(lang) for d in ordered)
    if lang == "zh":
        tail = f"{errors} 个错误，{warnings} 个警告" + (f"，{infos} 处声明的解读" if infos else "")
    else:
        tail = f"{errors} error(s), {warnings} warning(s)" + (f", {infos} declared reading(s)" if infos else "")
    return f"{body}\n\n{tail}" if body else tail


class _Default(dict):
    def __missing__(self, key):
        return "{" + key + "}"


# Unicode categories a reader cannot see on one line: controls (a line break, a tab, an
# escape that would drive the terminal), format characters (a zero-width space copied
# from a document), line and paragraph separators.
UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def unseen(text: str) -> list[str]:
    """The characters of ``text`` a reader cannot see (see :data:`UNSEEN`), as ``U+XXXX``."""
    if text.isprintable():
        return []
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in UNSEEN]


def visible(text):
    """``text`` with each character a reader cannot see written as an escape (``\\n``,
    ``\\u200b``): a message stays one line whose every character shows, whatever a rule
    file or a row of facts put in a name. Anything not a string is returned as it is."""
    if not isinstance(text, str) or text.isprintable():
        return text
    return "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if unicodedata.category(c) in UNSEEN else c)
                   for c in text)


def _fill(template: str, args: dict, lang: str) -> str:
    def pick(value):
        # Arguments may themselves be bilingual ({"zh": …, "en": …}).
        if isinstance(value, dict) and "zh" in value:
            value = value.get(lang) or value["zh"]
        return visible(value)

    return template.format_map(_Default({k: pick(v) for k, v in args.items() if k != "hint"}))


def _file_lines(path: str) -> tuple[str, ...] | None:
    # Keyed by the file's absolute path, modification time and size, not by the path as
    # given: a long-lived process (the service, the workbench's editor, a test run that
    # changes folder) rendered a file's old lines under a diagnostic about its new text.
    try:
        where = Path(path).resolve()
        st = where.stat()
    except (OSError, RuntimeError):
        return None
    return _read_lines(str(where), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _read_lines(path: str, mtime_ns: int, size: int) -> tuple[str, ...] | None:
    # A CSV register that is not UTF-8 is GBK or GB18030 (fupin reads those, batch/encoding.py):
    # its rows are shown under their diagnostics too. Other files are UTF-8 or not shown.
    codecs = ("utf-8-sig", "gb18030") if path.lower().endswith(".csv") else ("utf-8",)
    for codec in codecs:
        try:
            return tuple(Path(path).read_text(encoding=codec).splitlines())
        except UnicodeDecodeError:
            continue
        except OSError:
            return None
    return None


def source_line(path: str, line: int) -> str | None:
    """The text of one line of a file, or None when it cannot be read."""
    lines = _file_lines(path)
    if lines is None or not 1 <= line <= len(lines):
        return None
    return lines[line - 1].rstrip("\n")


def _display_width(text: str) -> int:
    """Terminal columns of a text: CJK characters take two, so the caret lines up."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
