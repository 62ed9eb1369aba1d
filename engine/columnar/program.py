"""``ColumnarProgram``: evaluate a compiled policy over a whole :class:`Frame` at once.

The result keeps each output as an array in its type's representation (see frame.py)
with ``unknown`` and ``error`` masks. Which facts an unknown output waits on, and the
diagnostic of an error, are per-row explanations: :meth:`ColumnarResult.details`
re-evaluates just those rows with the scalar evaluator, so both paths report them in
the same words.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .frame import Frame, empty_array, encode_value, decode_value, enum_values, to_records


@dataclass
class ColumnarResult:
    """Outputs of one frame: values, unknown and error masks, per output name."""

    program: object
    frame: Frame
    on: dt.date
    outputs: list
    values: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.frame.n

    def undecided_rows(self) -> np.ndarray:
        """Rows where some output is unknown or an error (these need ``details``)."""
        bad = np.zeros(self.n, dtype=bool)
        for name in self.outputs:
            bad |= self.unknown[name] | self.error[name]
        return np.flatnonzero(bad)

    def details(self, rows) -> dict:
        """Scalar evaluations (unknown facts, error diagnostics) of some rows, by row."""
        program = self.program.program
        records = to_records(program.checked, self.frame, rows)
        return {int(i): program.evaluate(r, self.on, self.frame.entity, outputs=self.outputs)
                for i, r in zip(rows, records)}

    def decode(self, name: str) -> list:
        """One output as scalar values (None where unknown or an error)."""
        rule = self.program.program.checked.rules[name]
        kind, values = rule.type.kind, enum_values(self.program.program.checked, rule.type)
        data, bad = self.values[name], self.unknown[name] | self.error[name]
        return [None if bad[i] else decode_value(data[i], kind, values) for i in range(self.n)]


class ColumnarProgram:
    """A Program's rules evaluated over frames (compile once, evaluate many frames)."""

    def __init__(self, program):
        self.program = program

    def evaluate(self, frame: Frame, on: dt.date, outputs=None) -> ColumnarResult:
        """Evaluate ``outputs`` (default: the entity's outputs) for every row of ``frame``."""
        names = list(outputs or self.program.outputs(frame.entity))
        return self._reference(frame, on, names)

    def _reference(self, frame, on, names) -> ColumnarResult:
        """Row by row with the scalar evaluator: the semantics the columnar path must match."""
        checked = self.program.checked
        result = ColumnarResult(self, frame, on, names)
        records = to_records(checked, frame)
        evals = [self.program.evaluate(r, on, frame.entity, outputs=names) for r in records]
        for name in names:
            rule = checked.rules[name]
            kind, values = rule.type.kind, enum_values(checked, rule.type)
            data = empty_array(kind, frame.n) if kind != "list" else np.empty(frame.n, dtype=object)
            unknown = np.zeros(frame.n, dtype=bool)
            error = np.zeros(frame.n, dtype=bool)
            for i, ev in enumerate(evals):
                if name in ev.errors:
                    error[i] = True
                elif name in ev.unknown:
                    unknown[i] = True
                else:
                    data[i] = encode_value(ev.values[name], kind, values)
            result.values[name], result.unknown[name], result.error[name] = data, unknown, error
        return result
