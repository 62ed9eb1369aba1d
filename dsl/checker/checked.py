"""The checked policy: declarations with types and resolved, typed expressions.

This is the checker's output and the compiler's input (one per variant). Labels,
documents and readings are held as the plain objects of dsl/labels.py, converted from the
schema's pydantic models when a checked object is made (``__post_init__``): a checked
policy unpickles (engine/cache.py) without pydantic.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import Span
from ..labels import Labels, document_of, labels_of, reading_of
from ..typed import T
from ..types import Type


@dataclass(frozen=True)
class Citation:
    """A source reference: document id and an inclusive line range."""

    doc: str
    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.doc}:{self.first}" + (f"-{self.last}" if self.last != self.first else "")


@dataclass
class CEnum:
    name: str
    labels: Labels | None
    values: dict[str, Labels]

    def __post_init__(self):
        self.labels = labels_of(self.labels)
        self.values = {k: labels_of(v) for k, v in self.values.items()}

    def spellings(self) -> dict:
        """Every accepted spelling of a value in facts → the value: the value itself, its
        zh and en labels, trimmed, each also casefolded (``Exited``, ``已脱贫``). A spelling
        two values share is left out (the checker reports it, E818)."""
        out: dict = {}
        for text, *_ in self.clashes():
            out[text] = None
        for value, labels in self.values.items():
            for text in _spelled(value, labels):
                out.setdefault(text, value)
        out = {text: value for text, value in out.items() if value is not None}
        out.update({value: value for value in self.values})  # a value always reads as itself
        return out

    def clashes(self) -> list[tuple[str, str, str]]:
        """``(spelling, first value, second value)`` for each spelling two values share."""
        seen: dict = {}
        out = []
        for value, labels in self.values.items():
            for text in sorted(_spelled(value, labels)):
                first = seen.setdefault(text, value)
                if first != value and not any(c[0] == text for c in out):
                    out.append((text, first, value))
        return out


def _spelled(value: str, labels: Labels | None) -> set:
    texts = {value} | ({t for t in (labels.zh, labels.en) if t} if labels is not None else set())
    return {t.strip() for t in texts} | {t.strip().casefold() for t in texts}


@dataclass
class CField:
    entity: str
    name: str
    type: Type
    labels: Labels | None
    unit: str | None = None
    required: bool = False
    min: Any = None
    max: Any = None
    when_absent: Any = None
    has_absent: bool = False
    child: str | None = None  # for list fields: the child entity
    span: Span | None = None
    optional: bool = False  # list fields: an input may leave the whole list out
    mutable: bool = True  # declared `mutable: false`: a person cannot change it (what-if marks it)
    pii: bool = False  # declared `pii: true`: masked in decision logs

    def __post_init__(self):
        self.labels = labels_of(self.labels)


@dataclass(frozen=True)
class CIncidence:
    """A checked incidence: rows whose enum ``field`` is in ``values`` (value names)."""

    labels: Labels
    field: str
    values: tuple
    people: str | None = None  # list field counted as people; None: each row is one

    def __post_init__(self):
        object.__setattr__(self, "labels", labels_of(self.labels))


@dataclass(frozen=True)
class CReport:
    """A checked report declaration (model.ReportDef): names known to exist on the entity."""

    rows: Labels | None = None
    count: tuple = ()
    incidence: CIncidence | None = None
    # from the top-level ``reports:`` section (ReportsDef); ``declared`` False: the
    # summary totals every money output, as before the section existed
    total: tuple = ()
    average: tuple = ()
    levels: tuple = ()
    top: int = 10
    declared: bool = False

    def __post_init__(self):
        object.__setattr__(self, "rows", labels_of(self.rows))


@dataclass
class CEntity:
    name: str
    labels: Labels | None
    parent: str | None
    key: str
    fields: dict[str, CField]
    span: Span | None = None
    parent_key: str | None = None  # flat files: the column naming the parent's key
    report: CReport | None = None
    default: bool = False  # evaluated when a call names no entity
    title: Labels | None = None  # how explanations name a child beside its number ("{age} 岁")

    def __post_init__(self):
        self.labels, self.title = labels_of(self.labels), labels_of(self.title)

    @property
    def children(self) -> dict[str, str]:
        """List field name → child entity name."""
        return {f.name: f.child for f in self.fields.values() if f.child}


@dataclass(frozen=True)
class Gap:
    """A value the source leaves blank (a documented GAP)."""

    text: str
    source: tuple = ()


@dataclass
class CParam:
    name: str
    type: Type
    labels: Labels | None
    unit: str | None
    sources: tuple
    note: str | None
    periods: list  # [(start date, value | None | Gap)], sorted
    origin: str
    span: Span

    def __post_init__(self):
        self.labels = labels_of(self.labels)

    def value_on(self, day: dt.date):
        """(start, value) in force on ``day``; value None when none is."""
        chosen = None
        for start, value in self.periods:
            if start <= day:
                chosen = (start, value)
            else:
                break
        return chosen


@dataclass
class CException:
    id: str
    labels: Labels | None
    when: T
    value: T
    sources: tuple
    origin: str
    span: Span

    def __post_init__(self):
        self.labels = labels_of(self.labels)


@dataclass
class CRow:
    index: int  # 1-based
    id: str | None
    tests: dict  # input name -> typed test
    then: T
    reason: Labels | None
    sources: tuple
    span: Span

    def __post_init__(self):
        self.reason = labels_of(self.reason)


@dataclass
class CTableInput:
    name: str
    expr: T
    labels: Labels | None
    domain: tuple | None = None  # (lo, lo_closed, hi, hi_closed)

    def __post_init__(self):
        self.labels = labels_of(self.labels)


@dataclass
class CTable:
    hit: str
    aggregate: str | None
    priority: list | None
    inputs: list  # [CTableInput]
    rows: list  # [CRow]
    span: Span
    # Set by the table analysis when every input combination was checked on every
    # parameter date: some row always matches (and, for ``unique``, only one). The
    # evaluators then may decide a row whose inputs are partly unknown (decisions.py).
    proven: bool = False
    gap: Any = None  # labels.Reading: the text leaves the inputs no row matches open (I952)

    def __post_init__(self):
        self.gap = reading_of(self.gap)


@dataclass
class CRule:
    name: str
    entity: str
    type: Type
    labels: Labels | None
    unit: str | None
    sources: tuple
    note: str | None
    internal: bool
    expr: T | None
    table: CTable | None
    exceptions: list
    origin: str
    span: Span
    deps: set = field(default_factory=set)

    def __post_init__(self):
        self.labels = labels_of(self.labels)

    def label(self, lang: str = "zh") -> str:
        return self.labels.get(lang) if self.labels else self.name

    def roots(self) -> list:
        """Every typed expression of the rule: its ``expr``, its table's inputs, each row's
        cells and ``then``, each exception's ``when`` and value (for walks over a rule)."""
        out = [self.expr] if self.expr is not None else []
        if self.table is not None:
            out += [i.expr for i in self.table.inputs]
            for row in self.table.rows:
                out += [row.then, *row.tests.values()]
        for e in self.exceptions:
            out += [e.when, e.value]
        return out


@dataclass
class CheckedPolicy:
    """A whole policy (base or one variant), checked and resolved."""

    variant: str
    variant_labels: Labels | None
    documents: dict
    enums: dict[str, CEnum]
    entities: dict[str, CEntity]
    params: dict[str, CParam]
    rules: dict[str, CRule]
    default_on: dt.date | None = None  # the as-of date of calls that give none (declared)

    def __post_init__(self):
        self.variant_labels = labels_of(self.variant_labels)
        self.documents = {k: document_of(v) for k, v in self.documents.items()}

    @property
    def default_entity(self) -> str | None:
        """The entity declared ``default: true`` (the only one, if one alone is declared)."""
        chosen = [name for name, ent in self.entities.items() if ent.default]
        if chosen:
            return chosen[0]
        return next(iter(self.entities)) if len(self.entities) == 1 else None

    def parent_keys(self, entity: str) -> tuple:
        """The declared ``parent_key`` columns of ``entity`` and of its ancestors, nearest
        first (a household's ``village_id``, then the village's ``township_id``): in flat
        files they name where a row belongs; they are not facts."""
        out, name, seen = [], entity, set()
        while name is not None and name not in seen and name in self.entities:
            seen.add(name)
            ent = self.entities[name]
            if ent.parent_key and ent.parent_key not in out:
                out.append(ent.parent_key)
            name = ent.parent
        return tuple(out)
