"""``ColumnarProgram``: evaluate a compiled policy over a whole :class:`Frame` at once.

The result keeps each output as an array in its type's representation (see frame.py)
with ``unknown`` and ``error`` masks, and for unknown rows the id of the facts they wait
on (``why``, decoded by :meth:`ColumnarResult.facts`; see why.py). The diagnostic of an
error is a per-row explanation: :meth:`ColumnarResult.details` re-evaluates just those
rows with the scalar evaluator, so both paths report it in the same words.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np

from decimal import Decimal

from ..core import exact
from ..core.values import ParamIssue, Unknown
from .compile import ColumnarCompiler
from .frame import (Column, Frame, decode_value, empty_array, encode_value, enum_values, from_records, take as take_rows,
                    to_records)
from .env import Level
from .tables import compile_rule
from . import why as wy
from .vector import REP_OF_KIND, V, as_objects, column, encode_literal, fen_exact, full


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
    why: dict = field(default_factory=dict)  # output -> int32 fact-set ids (0 where known)
    whys: wy.Whys = field(default_factory=wy.Whys)
    possible: dict = field(default_factory=dict)  # output -> {row: values still possible}
    exact: bool = True  # unknowns settled by cases (core/exact.py)
    settled: tuple = (0, 0, 0.0)  # unknown outputs searched by cases, decided, seconds it took

    @property
    def n(self) -> int:
        return self.frame.n

    def facts(self, name: str, row: int):
        """The facts output ``name`` waits on in ``row`` (sorted names, as ``fupin eval``
        reports them), ``[]`` if it is not unknown, None if not tracked there."""
        if not self.unknown[name][row]:
            return []
        return self.whys.facts(int(self.why[name][row]))

    def unknown_rows(self) -> np.ndarray:
        """Per row: is some output unknown?"""
        return self._some(lambda name: self.unknown[name])

    def _some(self, mask_of) -> np.ndarray:
        """Per row: does ``mask_of(output)`` hold for some output?"""
        out = np.zeros(self.n, dtype=bool)
        for name in self.outputs:
            out |= mask_of(name)
        return out

    def track(self) -> None:
        """Re-evaluate, tracking facts, the rows where an output is unknown and its facts
        are not tracked; their results replace the first ones (rows are independent)."""
        rows = np.flatnonzero(self._some(lambda name: self.unknown[name] & (self.why[name] < 0)))
        if not len(rows):
            return
        again = self.program.evaluate(take_rows(self.frame, rows), self.on, self.outputs, why=True, exact=False)
        self.whys = again.whys
        for name in self.outputs:
            self.values[name] = _put(self.values[name], rows, again.values[name])
            self.unknown[name][rows] = again.unknown[name]
            self.error[name][rows] = again.error[name]
            self.why[name][rows] = again.why[name]

    def rows_to_explain(self) -> np.ndarray:
        """Rows that need the scalar evaluator: an output is an error (its diagnostic),
        or unknown for want of facts not tracked here (``why`` is -1 exactly there: it
        is 0 where an output is not unknown). Outputs with neither are skipped whole:
        most outputs of most chunks."""
        out = np.zeros(self.n, dtype=bool)
        for name in self.outputs:
            error, why = self.error[name], self.why[name]
            if error.any():
                out |= error
            if len(why) and why.min() < 0:
                out |= why < 0
        return np.flatnonzero(out)

    def error_rows(self) -> np.ndarray:
        """Rows where some output is an error (their diagnostics need the scalar evaluator)."""
        return np.flatnonzero(self._some(lambda name: self.error[name]))

    def undecided_rows(self) -> np.ndarray:
        """Rows where some output is unknown or an error (these need ``details``)."""
        return np.flatnonzero(self._some(lambda name: self.unknown[name] | self.error[name]))

    def details(self, rows) -> dict:
        """Scalar evaluations (unknown facts, error diagnostics) of some rows, by row.

        Each row is re-evaluated for its undecided outputs only (the scalar evaluator
        computes just what those depend on)."""
        program = self.program.program
        rows = np.asarray(rows, dtype=np.int64)
        records = to_records(program.checked, self.frame, rows)
        bad = np.stack([(self.unknown[n] | self.error[n])[rows] for n in self.outputs], axis=1) if len(rows) else None
        out = {}
        for k, (i, r) in enumerate(zip(rows.tolist(), records)):
            names = [n for n, b in zip(self.outputs, bad[k].tolist()) if b] or self.outputs
            out[i] = program.evaluate(r, self.on, self.frame.entity, outputs=names, exact=self.exact)
        return out

    def decode(self, name: str) -> list:
        """One output as scalar values (None where unknown or an error)."""
        rule = self.program.program.checked.rules[name]
        kind, values = rule.type.kind, enum_values(self.program.program.checked, rule.type)
        data, bad = self.values[name], self.unknown[name] | self.error[name]
        if data.dtype == object and kind == "money":
            return [None if bad[i] else data[i] for i in range(self.n)]
        return [None if bad[i] else decode_value(data[i], kind, values) for i in range(self.n)]


class _Run:
    """What one columnar evaluation shares: compiled rules and the dated parameters."""

    def __init__(self, cprog, on: dt.date, given: dict | None = None):
        self.program, self.rules = cprog.program, cprog.rules
        self.params = cprog.params_on(on)
        if given:  # blank parameters given a value while settling by cases (core/exact.py)
            self.params = {**self.params, **{n: cprog.constant(n, v) for n, v in given.items()}}

    def param(self, name: str, n: int) -> V:
        v = self.params[name]
        if v.rep == "issue":
            every = np.ones(n, dtype=bool)
            return V(v.data, "int", every if v.unk else None, every if v.err else None,
                     why=wy.constant(v.why, n) if v.unk else None)
        return v


class ColumnarProgram:
    """A Program's rules compiled for whole frames (compile once, evaluate many frames)."""

    def __init__(self, program):
        self.program = program
        cc = ColumnarCompiler(program.checked)
        self.rules = {n: compile_rule(cc, r) for n, r in program.checked.rules.items()}
        self._dated: dict = {}
        self._mostly_unknown = None  # in the last frame evaluated (picks how to track facts); None: no frame yet

    def params_on(self, on: dt.date) -> dict:
        """Parameter values on a date as constant V (gaps unknown, no value an error)."""
        found = self._dated.get(on)
        if found is None:
            values, _ = self.program.params_on(on)
            found = {}
            for name, value in values.items():
                p = self.program.checked.params[name]
                if type(value) is ParamIssue:
                    found[name] = V(0, "issue", value.unknown is not None, value.error is not None,
                                    why=value.unknown.facts if value.unknown is not None else None)
                    continue
                found[name] = self.constant(name, value)
            self._dated[on] = found
        return found

    def constant(self, name: str, value) -> V:
        """A parameter's value as a constant V."""
        p = self.program.checked.params[name]
        enum = enum_values(self.program.checked, p.type)
        data, rep = encode_literal(value, p.type.kind, enum)
        return V(data, rep, enum=enum)

    def evaluate(self, frame: Frame, on: dt.date, outputs=None, why: bool | str = "auto", exact: bool = True,
                 given: dict | None = None) -> ColumnarResult:
        """Evaluate ``outputs`` (default: the entity's outputs) for every row of ``frame``.

        ``why``: ``True`` tracks the facts each unknown waits on in the same pass;
        ``False`` does not (``facts()`` is None there); ``"rows"`` evaluates once without
        them, then again, tracking them, only the rows where an output is unknown. Tracking
        costs about twice the evaluation where unknowns are common, so ``"rows"`` is the
        cheaper choice when few rows are unknown; ``"auto"`` (the default) takes ``"rows"``
        when most rows of the previous frame were known, and tracks in the pass otherwise
        and for the first frame (guessing ``"rows"`` there cost a batch of the pack, where
        every household has some output unknown, a second evaluation of its first chunk:
        ~2.5× that chunk; guessing wrong the other way costs one chunk's tracking).
        Results are the same.

        ``exact`` (the default, as in the scalar program) settles unknown outputs by
        cases (core/exact.py; see :meth:`settle`); where unknowns are common it costs a
        batch hundreds of times the three-valued evaluation (docs/performance.md), and
        ``exact=False`` gives the three-valued answers alone. ``given`` sets blank
        parameters."""
        names = list(outputs or self.program.outputs(frame.entity))
        auto = why == "auto"
        if auto:
            why = "rows" if self._mostly_unknown is False else True
        result = ColumnarResult(self, frame, on, names, exact=exact)
        checked = self.program.checked
        with wy.evaluating(result.whys if why is True else None):
            level = Level(_Run(self, on, given), frame)
            try:
                for name in names:
                    v = level.rule(name)
                    rule = checked.rules[name]
                    data, unknown, error = _output(v, rule.type.kind, enum_values(checked, rule.type), frame.n)
                    result.values[name], result.unknown[name], result.error[name] = data, unknown, error
                    result.why[name] = _why_ids(v, unknown, frame.n, why is True)
            finally:
                level.release()
        if why == "rows" or (exact and why is False):
            result.track()
        if exact:
            self.settle(result)
        if auto and frame.n:
            self._mostly_unknown = 2 * int(np.count_nonzero(result.unknown_rows())) > frame.n
        return result

    def settle(self, result: ColumnarResult) -> None:
        """Settle the unknown outputs of ``result`` by cases (core/exact.py), in place.

        Each round evaluates every pending completion of every unknown (row, output) as
        one frame (a frame per set of blank parameters given), made by repeating the rows
        and writing the completed facts into the copied columns; outputs of one row that
        need the same completion share its evaluation."""
        rows = np.flatnonzero(result.unknown_rows())
        if not len(rows):
            return
        started = time.perf_counter()
        checked, entity = self.program.checked, result.frame.entity
        searches = [(row, name, exact.Search(self.program.space, entity, result.facts(name, row),
                                             values=exact.type_values(checked, checked.rules[name].type),
                                             output=name, known=_RowFacts(checked, result.frame, row)))
                    for row in rows.tolist() for name in result.outputs if result.unknown[name][row]]
        while True:
            todo = [(s, c) for s in searches for c in s[2].pending]
            if not todo:
                break
            outcomes = iter(self._complete(todo, result))  # in the order of todo
            for s in searches:
                if s[2].pending:
                    s[2].feed([next(outcomes) for _ in s[2].pending])
        decided = 0
        for row, name, search in searches:
            if search.decided:
                self._decide(result, name, row, search.value)
                decided += 1
            else:
                listed = exact.listed(checked, checked.rules[name].type, search.possible)
                if listed is not None:
                    result.possible.setdefault(name, {})[row] = listed
        result.settled = (len(searches), decided, time.perf_counter() - started)

    def _complete(self, todo, result) -> list:
        """The outcome of each (row, completion, output) asked for in ``todo``, in its order."""
        wanted: dict = {}  # (params, row, completion key) -> (completion, {names})
        asked = []  # per item of todo: its (params, row, completion key) and output
        for (row, name, _), c in todo:
            key = _key(c)
            params = tuple((k[10:], v) for k, v in key if k[:10] == "parameter:")  # sorted, as the key
            where = (params, row, key)
            if where not in wanted:
                wanted[where] = (c, set())
            wanted[where][1].add(name)
            asked.append((where, name))
        groups: dict = {}
        for (params, row, key), (c, names) in wanted.items():
            groups.setdefault(params, []).append((row, key, c, names))
        out = {}
        for params, items in groups.items():
            frame = take_rows(result.frame, np.array([row for row, *_ in items], dtype=np.int64))
            writes: dict = {}  # path -> ([row of the frame], [value]): written a column at a time
            for k, (_, _, c, _) in enumerate(items):
                for path, value in c.items():
                    if not path.startswith("parameter:"):
                        rows_of, values_of = writes.setdefault(path, ([], []))
                        rows_of.append(k)
                        values_of.append(value)
            for path, (ks, values) in writes.items():
                _write(self.program.checked, frame, np.array(ks, dtype=np.int64), path, values)
            names = sorted(set().union(*(n for *_, n in items)))
            sub = self.evaluate(frame, result.on, names, why=True, exact=False, given=dict(params))
            decoded = {n: sub.decode(n) for n in names}
            for k, (row, key, _, wanted_names) in enumerate(items):
                for n in wanted_names:
                    out[(params, row, key, n)] = _outcome(sub, decoded, n, k)
        return [out[(*where, name)] for where, name in asked]

    def _decide(self, result: ColumnarResult, name: str, row: int, value) -> None:
        """Write a value settled by cases into the output arrays."""
        rule = self.program.checked.rules[name]
        kind, values = rule.type.kind, enum_values(self.program.checked, rule.type)
        data = result.values[name]
        if data.dtype == object:
            data[row] = value
        else:
            data[row] = encode_value(value, kind, values)
        result.unknown[name][row] = False
        result.why[name][row] = 0

    def reference(self, frame: Frame, on: dt.date, outputs=None, exact: bool = True) -> ColumnarResult:
        """The same result computed row by row with the scalar evaluator: the semantics
        the columnar path must match (for tests)."""
        names = list(outputs or self.program.outputs(frame.entity))
        checked = self.program.checked
        result = ColumnarResult(self, frame, on, names, exact=exact)
        records = to_records(checked, frame)
        evals = [self.program.evaluate(r, on, frame.entity, outputs=names, exact=exact) for r in records]
        for name in names:
            rule = checked.rules[name]
            kind, values = rule.type.kind, enum_values(checked, rule.type)
            data = empty_array(kind, frame.n) if kind != "list" else np.empty(frame.n, dtype=object)
            if kind == "money":
                data = np.empty(frame.n, dtype=object)
                data[:] = Decimal(0)
            unknown = np.zeros(frame.n, dtype=bool)
            error = np.zeros(frame.n, dtype=bool)
            ids = np.zeros(frame.n, dtype=np.int32)
            for i, ev in enumerate(evals):
                if name in ev.errors:
                    error[i] = True
                elif name in ev.unknown:
                    unknown[i] = True
                    ids[i] = result.whys.intern(frozenset(ev.unknown[name]))
                    if name in ev.possible:
                        result.possible.setdefault(name, {})[i] = ev.possible[name]
                else:
                    data[i] = ev.values[name] if kind == "money" else encode_value(ev.values[name], kind, values)
            if kind == "money":
                data = _money_array(data)
            result.values[name], result.unknown[name], result.error[name] = data, unknown, error
            result.why[name] = ids
        return result


class _RowFacts:
    """``path -> value`` of one row's given facts, decoded on first use (most searches
    never ask: only numbers compared with other facts do, core/exact.py)."""

    def __init__(self, checked, frame: Frame, row: int):
        self.checked, self.frame, self.row, self.facts = checked, frame, row, None

    def __call__(self, path: str):
        if self.facts is None:
            self.facts = to_records(self.checked, self.frame, np.array([self.row], dtype=np.int64))[0]
        return exact.read(self.facts, path)


def _key(completion: dict) -> tuple:
    # a dict's keys are distinct, so sorting its items never compares two values: the
    # same order as sorting by key, without a call per item
    return tuple(sorted(completion.items()))


def _write(checked, frame: Frame, ks: np.ndarray, path: str, values: list) -> None:
    """Set the fact at ``path`` (``members[2].age``) of rows ``ks`` of a frame to ``values``
    (one each), a column at a time: cell by cell it was 13 % of settling the pack's
    generated households (docs/performance.md)."""
    *parents, name = path.split(".")
    for seg in parents:
        field_name, index = seg[:-1].split("[")
        ch = frame.children[field_name]
        ks = np.searchsorted(ch.parent, ks) + int(index)  # children are grouped by parent
        frame = ch.frame
    fld = checked.entities[frame.entity].fields[name]
    col = frame.columns.get(name)
    if col is None:  # the whole column was absent: every row of it is missing
        col = frame.columns[name] = Column(empty_array(fld.type.kind, frame.n), np.ones(frame.n, dtype=bool))
    kind, enum, encoded = fld.type.kind, enum_values(checked, fld.type), {}
    for k, value in zip(ks.tolist(), values):
        key = (type(value), value)  # a field's candidates are few: each encoded once
        if key not in encoded:
            encoded[key] = encode_value(value, kind, enum)
        col.data[k] = encoded[key]
    if col.missing is not None:
        col.missing[ks] = False


def _outcome(sub: ColumnarResult, decoded: dict, name: str, k: int):
    """One completion's outcome: its value, an Unknown of its facts, or an error."""
    if sub.error[name][k]:
        return exact.ErrorOutcome("error")
    if sub.unknown[name][k]:
        return Unknown(frozenset(sub.facts(name, k)))
    return decoded[name][k]


def _why_ids(v: V, unknown: np.ndarray, n: int, tracked: bool) -> np.ndarray:
    """Per row, the id of the facts an unknown output waits on (0 where it is not
    unknown; ``UNTRACKED`` where facts were not tracked)."""
    if not unknown.any():
        return np.zeros(n, dtype=np.int32)  # the common case: skip the per-row select
    found = wy.of(v, n) if tracked else None
    return wy.untracked(unknown) if found is None else wy.masked(found, unknown).astype(np.int32, copy=False)


def _put(data: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``data`` with ``rows`` replaced by ``values`` (as objects if their dtypes differ,
    e.g. money that had to stay Decimal in one of the two)."""
    if data.dtype != values.dtype:
        data = _as_objects_like(data)
        values = _as_objects_like(values)
    data[rows] = values
    return data


def _as_objects_like(data: np.ndarray) -> np.ndarray:
    # only money differs between the two: fen integers in one, Decimals in the other
    return data if data.dtype == object else as_objects(V(data, "fen"), len(data))


def _output(v: V, kind: str, enum: tuple, n: int):
    """A rule's V as the output arrays: data in the type's representation, masks."""
    err = full(v.err, n).copy()
    unk = full(v.unk, n) & ~err
    want = REP_OF_KIND.get(kind, "obj")
    if v.rep == want:
        data = column(v.data, n)
    elif want == "fen" and v.rep == "int":
        data = column(v.data, n).astype(np.int64) * 100
    elif want == "fen":
        data = _money_array(as_objects(v, n))
    elif want == "dec":
        data = as_objects(v, n)
        data = np.array([Decimal(x) for x in data.tolist()] or [], dtype=object)
    elif want == "int" and v.rep == "obj":
        data = np.array([int(x) if x is not None else 0 for x in column(v.data, n).tolist()], dtype=np.int64)
    elif want == "enum" and v.rep == "obj":
        # enum values as objects (a blank enum parameter given a value while settling by
        # cases, beside enum literals in another branch): as the enum's codes
        data = empty_array(kind, n)
        data[:] = [enum.index(x) if x in enum else 0 for x in column(v.data, n).tolist()]
    else:
        data = column(v.data, n)
    if data.dtype != object and data.ndim == 1 and not data.flags.writeable:
        data = data.copy()
    return data, unk, err


def _money_array(objs: np.ndarray) -> np.ndarray:
    """Decimals as int64 fen when all are to the fen; else kept as Decimal objects."""
    exact = fen_exact(np.array([Decimal(0) if x is None else x for x in objs.tolist()] or [], dtype=object))
    return exact if exact is not None else objs
