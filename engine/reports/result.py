"""The decision object returned to callers: values, unknowns, errors, trace.

``Result`` is a pydantic model: ``result["monitoring_tier"]``, ``result.unknown``,
``result.explain("monitoring_tier", lang="en")`` (on a result evaluated with
``trace=True``: it renders from the result's own trace, built when first read; until
then a traced result holds what was recorded and what finding the deciding facts needs).
Money and ratios are ``Decimal``,
enums their stored value, undecided outputs ``None`` (listed in ``unknown``; a bool or enum
one also in ``possible``, with the values some completion of its missing facts gives).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from .record import Record
from .trace import Recorded, Trace


class OutputError(BaseModel):
    """An output that could not be computed because of an error (not a missing fact)."""

    code: str
    message: str
    message_en: str
    location: str


class Result(BaseModel):
    """The outcome of evaluating one entity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str | None
    entity: str
    on: str
    variant: str = "base"
    values: dict[str, Any]
    unknown: dict[str, list[str]] = {}
    possible: dict[str, list] = {}  # unknown bool/enum output -> the values still possible
    errors: dict[str, OutputError] = {}
    warnings: list[OutputError] = []  # facts accepted with a warning (W906 under allow_unknown_fields)
    record: Record | None = None  # the decision record: id, policy revision, variant, date, version, input hash
    _trace: Trace | Recorded | None = PrivateAttr(default=None)

    def __init__(self, trace: Trace | None = None, **data):
        super().__init__(**data)
        self._trace = trace

    @property
    def trace(self) -> Trace | None:
        """The trace of an evaluation with ``trace=True`` (else None): a pydantic
        :class:`~fupin.engine.reports.trace.Trace`, built from what was recorded when first
        read (with the deciding facts of each output, which re-evaluate: reports/reasons.py)."""
        if isinstance(self._trace, Recorded):
            self._trace = self._trace.model()
        return self._trace

    @trace.setter
    def trace(self, value: Trace | Recorded | None) -> None:
        self._trace = value

    def trace_tree(self) -> Trace | None:
        """The trace's tree of rules, values and what decided each, without what an
        explanation adds (each output's deciding facts, which re-evaluate it once per
        fact; labels; quotes; the record) when ``trace`` has not been read yet: much
        cheaper, for readers such as coverage that need no more."""
        if isinstance(self._trace, Recorded):
            return self._trace.tree()
        return self._trace

    def __getitem__(self, name: str):
        return self.values[name]

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def explain(self, output: str, lang: str = "zh", depth: int | None = 1, extra: list | None = None) -> str:
        """A readable explanation of one output, rendered from this result's trace: the
        decision and its deciding facts, the rule and its cited lines, ``extra`` lines
        (what-if answers), then the details ``depth`` levels deep (None: all).

        Raises ``ValueError`` when the result has no trace of ``output``: evaluate with
        ``trace=True``, or call ``Policy.explain(facts, output)``.
        """
        from .explain import render_text

        if self.trace is None or not any(node.rule == output for node in self.trace.roots):
            raise ValueError(f"no trace of `{output}` in this result: evaluate with trace=True "
                             f"(or call Policy.explain(facts, {output!r}))")
        return render_text(self, output, lang, depth, extra)

    def to_dict(self) -> dict:
        """The `fupin eval` JSON shape as data: id, results, unknown (and possible, errors
        if any, and the decision record).

        Dates become ISO text; money, ratios and decimals stay ``Decimal``.
        """
        from .jsonout import plain_json

        out = {"id": self.id, "results": plain_json(self.values), "unknown": self.unknown}
        if self.possible:
            out["possible"] = plain_json(self.possible)
        if self.errors:
            out["errors"] = {k: {"code": e.code, "message": e.message, "location": e.location}
                             for k, e in self.errors.items()}
        if self.record is not None:
            out["record"] = self.record.model_dump()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text, decimals written exactly (never binary floats)."""
        from .jsonout import JsonText, dumps

        return JsonText(dumps(self.to_dict(), indent=indent))
