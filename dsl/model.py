"""The rule-file schema, validated with pydantic.

These models describe what a policy officer writes; they hold expressions as text.
Each loaded object also remembers where it came from (``loc``: file, key path) and
which variant supplied it (``origin``): read-only properties over private attributes,
set with ``locate`` by the loader and by variants. They are not schema fields, so a
policy file cannot set them (``loc:`` in YAML is an unknown key like any other).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, PrivateAttr

Scalar = Union[bool, int, Decimal, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    _loc: Any = PrivateAttr(default=None)
    _origin: str = PrivateAttr(default="base")

    @property
    def loc(self):
        """Where this was written (a :class:`fupin.dsl.loader.Loc`), None if not loaded from a file."""
        return self._loc

    @property
    def origin(self) -> str:
        """The variant that supplied this (``"base"`` for the base policy)."""
        return self._origin

    def locate(self, loc, origin: str | None = None) -> None:
        """Record where this was written and, if given, which variant supplied it."""
        self._loc = loc
        if origin is not None:
            self._origin = origin


class Labels(_Strict):
    """A name for people, in Chinese (required) and English."""

    zh: str
    en: str | None = None

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" and self.en else self.zh) or ""


class DocumentDef(_Strict):
    file: str | None = None
    title: Labels | None = None
    place: str | None = None
    year: int | str | None = None
    kind: str | None = None
    note: str | None = None


class EnumDef(_Strict):
    labels: Labels | None = None
    values: dict[str, Labels]
    note: str | None = None


class FieldDef(_Strict):
    type: str
    of: str | None = None
    unit: str | None = None
    labels: Labels | None = None
    required: bool = False
    min: Scalar | None = None
    max: Scalar | None = None
    when_absent: Scalar | None = None
    optional: bool = False  # list fields: an input may leave the whole list out (see docs)
    mutable: bool = True  # False: a person cannot change it (age): what-if answers mark it
    pii: bool = False  # personal data: masked in decision logs
    source: str | None = None
    note: str | None = None


class DefaultsDef(_Strict):
    """What a call that says nothing gets: the as-of date (``on``), declared by the pack."""

    on: Any = None  # a date (YYYY-MM-DD); checked by the checker, which locates a bad one
    note: str | None = None


class IncidenceDef(_Strict):
    """A rate per parent in a report: people of rows whose ``field`` is one of ``values``
    over the people of all rows, grouped by the entity's ``parent_key`` column."""

    labels: Labels
    field: str
    values: list[str]
    people: str | None = None  # a list field whose children are the people; absent: rows


class ReportDef(_Strict):
    """What a batch summary of an entity's rows shows besides the money totals."""

    rows: Labels | None = None  # what a row is called in counts (户 / households)
    count: list[str] = []  # outputs whose values are counted
    incidence: IncidenceDef | None = None
    note: str | None = None


class ReportsDef(_Strict):
    """The pack's summary declaration for one entity (the top-level ``reports:`` section):
    which outputs are counted, totalled (money that is paid, not a standard) and averaged,
    and the carried key columns (``parent_key`` chain) figures are grouped by."""

    count: list[str] | None = None  # replaces the entity report's ``count`` when given
    total: list[str] = []
    average: list[str] = []
    levels: list[str] = []
    top: int = 10  # groups shown on screen, the rest go to the summary file
    note: str | None = None


class EntityDef(_Strict):
    labels: Labels | None = None
    parent: str | None = None
    parent_key: str | None = None  # in flat files, the column naming the parent's key
    key: str = "id"
    fields: dict[str, FieldDef]
    report: ReportDef | None = None
    default: bool = False  # the entity evaluated when a call names none
    title: Labels | None = None  # a child's name beside its number, from its facts: {zh: "{age} 岁"}
    note: str | None = None


class ReadingDef(_Strict):
    """A declared interpretation: where the text leaves a gap or is ambiguous, the
    reading the pack chose, why (``reason``) and on what (``source``). ``fupin check``
    lists every one at info level (I950–I952), so an auditor sees each choice."""

    reason: Union[str, Labels]
    source: str

    def text(self, lang: str = "zh") -> str:
        return self.reason if isinstance(self.reason, str) else self.reason.get(lang)


class ParameterDef(_Strict):
    type: str
    unit: str | None = None
    labels: Labels | None = None
    source: str | None = None
    note: str | None = None
    reading: ReadingDef | None = None  # the values are one reading of the text (I950)
    gap: ReadingDef | None = None  # the values settle a gap the text leaves (I951)
    values: dict[str, Any]


class ExceptionDef(_Strict):
    id: str
    labels: Labels | None = None
    when: Scalar
    value: Scalar
    source: str | None = None
    note: str | None = None


class TableInputDef(_Strict):
    expr: Scalar
    domain: str | None = None
    labels: Labels | None = None


class TableDef(_Strict):
    hit: Literal["first", "unique", "priority", "collect"] = "first"
    aggregate: Literal["sum", "min", "max", "count", "list"] | None = None
    priority: list[str] | None = None
    inputs: dict[str, Union[Scalar, TableInputDef]]
    rows: list[dict[str, Any]]
    gap: ReadingDef | None = None  # the text leaves the inputs no row matches open: no E601 (I952)
    note: str | None = None


class RuleDef(_Strict):
    type: str
    of: str | None = None
    entity: str | None = None
    unit: str | None = None
    labels: Labels | None = None
    source: str | None = None
    note: str | None = None
    internal: bool = False
    reading: ReadingDef | None = None  # the rule is one reading of an ambiguous text (I950)
    gap: ReadingDef | None = None  # the rule settles a gap the text leaves (I951)
    expr: Scalar | None = None
    table: TableDef | None = None
    exceptions: list[ExceptionDef] = []


class RuleFile(_Strict):
    """One YAML file of the base policy: any of these sections."""

    entity: str | None = None
    defaults: DefaultsDef | None = None
    documents: dict[str, DocumentDef] = {}
    enums: dict[str, EnumDef] = {}
    entities: dict[str, EntityDef] = {}
    parameters: dict[str, ParameterDef] = {}
    rules: dict[str, RuleDef] = {}
    reports: dict[str, ReportsDef] = {}  # entity -> what its batch summary and diff report
    note: str | None = None


class VariantFile(_Strict):
    """A variant: overrides of parameters, rules and exceptions over a base."""

    variant: str
    extends: str = "base"
    labels: Labels | None = None
    source: str | None = None
    note: str | None = None
    parameters: dict[str, dict[str, Any]] = {}
    rules: dict[str, dict[str, Any]] = {}
    exceptions: dict[str, list[ExceptionDef]] = {}


ROW_KEYS = ("then", "reason", "source", "id", "note", "reading", "gap")
