"""The labels, documents and readings a checked policy keeps, as plain frozen objects.

The rule files' schema (dsl/model.py) reads them as pydantic models (``Labels``,
``DocumentDef``, ``ReadingDef``); the checked policy (checker/checked.py) holds these
plain twins instead, converted when a checked object is made. They have the attributes
and methods the engine, the reports and the web pages read (``zh``, ``en``, ``get``;
a document's ``file``, ``title`` and ``loc.file``; a reading's ``text``). So a policy read
from the cache (engine/cache.py) unpickles without importing pydantic or building the
schema: a third of a small batch's start-up (docs/performance.md, "Start-up").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Labels:
    """A name for people, in Chinese (required) and English (model.Labels, checked)."""

    zh: str
    en: str | None = None

    def get(self, lang: str) -> str:
        """The name in ``lang``: English when asked for and given, else Chinese ("" if neither)."""
        return (self.en if lang == "en" and self.en else self.zh) or ""

    def model_dump(self, **_options) -> dict:
        """``{zh, en}``, as the schema's model dumps (for encoders that ask for it)."""
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Document:
    """A declared document (model.DocumentDef); ``loc`` is where it is declared (a
    :class:`~fupin.dsl.errors.Span`: its ``file`` is the YAML file ``file`` is relative to)."""

    file: str | None = None
    title: Labels | None = None
    place: str | None = None
    year: Any = None
    kind: str | None = None
    note: str | None = None
    loc: Any = None


@dataclass(frozen=True)
class Reading:
    """A declared interpretation (model.ReadingDef): the reason (text or labels) and its source."""

    reason: Any
    source: str

    def text(self, lang: str = "zh") -> str:
        """The reason in ``lang`` (a reason written as plain text is the same in both)."""
        return self.reason if isinstance(self.reason, str) else self.reason.get(lang)


def labels_of(value) -> Labels | None:
    """Schema labels (or plain ones, or None) as plain :class:`Labels`."""
    if value is None or isinstance(value, Labels):
        return value
    return Labels(value.zh, value.en)


def document_of(value) -> Document | None:
    """A schema ``DocumentDef`` as a plain :class:`Document`."""
    if value is None or isinstance(value, Document):
        return value
    loc = value.loc.key_span() if value.loc is not None else None
    return Document(value.file, labels_of(value.title), value.place, value.year, value.kind, value.note, loc)


def reading_of(value) -> Reading | None:
    """A schema ``ReadingDef`` as a plain :class:`Reading`."""
    if value is None or isinstance(value, Reading):
        return value
    reason = value.reason if isinstance(value.reason, str) else labels_of(value.reason)
    return Reading(reason, value.source)


__all__ = ["Labels", "Document", "Reading", "labels_of", "document_of", "reading_of"]
