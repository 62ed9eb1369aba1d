"""One frame evaluated under two settings: what changed, counted exactly and per group.

:func:`compare_frame` takes the two :class:`ColumnarResult` of the same validated frame
and returns the chunk's :class:`Diff` (mergeable figures) and the table of its changed
rows. An output *changed* in a row when its state differs (decided, unknown, error) or,
decided on both sides, its value does (enum values compared by name, so two packs may
order an enum differently). Figures, for the whole run and per group of each level:

- ``rows``, ``changed`` (rows where some compared output changed), per output changed;
- ``moves``: for enum and bool outputs, ``(before, after) → rows``, unknown and error
  being states of their own (bool flips are the ``true → false`` and ``false → true``
  cells); per group only for the outputs the pack's report counts;
- ``money``: for the money the report totals (paid), ``[fen before, rows decided before,
  fen after, rows decided after]``; ``sums``: the same for the outputs it averages.

The changed rows' table has the key, the carried key columns, ``changed`` (the outputs
that changed), ``OUTPUT:before`` and ``OUTPUT:after`` as text (``unknown``/``error`` for
those states; null where that output did not change), ``because``: JSON, output → what
moved in the rules it depends on (changes.py), and ``decided`` for the first changed rows
of each chunk (``traced``): JSON, output → the table row, exception or expression that
decides it on each side (``row 4 (红色) → row 3 (黄色)``), from a traced evaluation.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columnar.frame import enum_values
from . import groups as gr
from .outputs import output_array
from .summary import declared

STATES = ("unknown", "error")


@dataclass
class DiffFigures:
    """The comparison figures of some rows (a whole run or one group)."""

    rows: int = 0
    changed: int = 0
    outputs: dict = field(default_factory=dict)  # output -> rows where it changed
    moves: dict = field(default_factory=dict)  # output -> Counter((before, after) -> rows)
    money: dict = field(default_factory=dict)  # output -> [fen before, n before, fen after, n after]
    sums: dict = field(default_factory=dict)  # averaged output -> [sum before, n before, sum after, n after]

    def merge(self, other: "DiffFigures") -> "DiffFigures":
        """Add another's figures to these."""
        self.rows += other.rows
        self.changed += other.changed
        for name, n in other.outputs.items():
            self.outputs[name] = self.outputs.get(name, 0) + n
        for name, counter in other.moves.items():
            self.moves.setdefault(name, Counter()).update(counter)
        for into, theirs in ((self.money, other.money), (self.sums, other.sums)):
            for name, figures in theirs.items():
                mine = into.setdefault(name, [0, 0, 0, 0])
                for i, v in enumerate(figures):
                    mine[i] += v
        return self


@dataclass
class Diff:
    """A comparison's figures: the whole, and per group of each level (key column)."""

    entity: str = ""
    whole: DiffFigures = field(default_factory=DiffFigures)
    levels: dict = field(default_factory=dict)  # key column -> {key text -> DiffFigures}

    def merge(self, other: "Diff") -> "Diff":
        """Add another chunk's (or partition's) figures."""
        self.entity = self.entity or other.entity
        self.whole.merge(other.whole)
        for level, groups in other.levels.items():
            mine = self.levels.setdefault(level, {})
            for key, figures in groups.items():
                mine.setdefault(key, DiffFigures()).merge(figures)
        return self


@dataclass
class Side:
    """One output on one side: state per row (0 decided, 1 unknown, 2 error), values, labels."""

    state: np.ndarray
    values: np.ndarray
    labels: tuple  # enum values (empty for other kinds)


def side(result, name: str) -> Side:
    """Output ``name`` of a result as a :class:`Side`."""
    checked = result.program.program.checked
    state = np.where(result.error[name], 2, np.where(result.unknown[name], 1, 0)).astype(np.int8)
    return Side(state, result.values[name], enum_values(checked, checked.rules[name].type))


def changed_rows(a: Side, b: Side, kind: str) -> np.ndarray:
    """Rows where the output's state or (decided on both sides) value differs."""
    both = (a.state == 0) & (b.state == 0)
    if kind == "enum":
        index = {v: i for i, v in enumerate(a.labels)}
        mapped = np.array([index.get(v, -1) for v in b.labels] or [0], dtype=np.int64)
        differ = a.values.astype(np.int64) != mapped[b.values.astype(np.int64)] if len(b.labels) else both
    else:
        differ = np.asarray(a.values != b.values, dtype=bool)
    return (a.state != b.state) | (both & differ)


def states(s: Side, kind: str) -> tuple:
    """``(codes, labels)``: each row's value or state as a position among ``labels``."""
    labels = list(s.labels) if kind == "enum" else ["true", "false"]
    codes = s.values.astype(np.int64) if kind == "enum" else np.where(s.values.astype(bool), 0, 1)
    codes = np.where(s.state == 0, codes, len(labels) + s.state.astype(np.int64) - 1)
    return codes, labels + list(STATES)


def compare_frame(ra, rb, outputs, causes: dict, index_of: dict, ids, carried, schema, traced: int = 0) -> tuple:
    """``(Diff, changed rows table)`` of one frame evaluated as ``ra`` and ``rb``.

    ``index_of``: level → ``(names, index)`` of each row's group (groups.encode);
    ``ids``/``carried``: the key and carried key columns of the frame's rows; ``traced``:
    how many of the frame's first changed rows get ``decided`` (what decides each changed
    output on each side, from a traced scalar evaluation of that row alone)."""
    checked = ra.program.program.checked
    entity = ra.frame.entity
    counted, totalled, averaged = declared(checked, entity, outputs)
    n = ra.n
    sides = {name: (side(ra, name), side(rb, name)) for name in outputs}
    kinds = {name: checked.rules[name].type.kind for name in outputs}
    changed = {name: changed_rows(*sides[name], kinds[name]) for name in outputs}
    anything = np.zeros(n, dtype=bool)
    for mask in changed.values():
        anything |= mask
    levels = {"": ([""], np.zeros(n, dtype=np.int64)), **index_of}
    figures = {level: _figures(sides, kinds, changed, anything, names, index,
                               counted if level else [k for k in outputs if kinds[k] in ("enum", "bool")], totalled,
                               averaged)
               for level, (names, index) in levels.items()}
    diff = Diff(entity, figures.pop("")[0], {level: dict(zip(levels[level][0], f)) for level, f in figures.items()})
    rows = np.flatnonzero(anything)
    table = _changed_table(ra, rb, outputs, changed, rows, causes, ids, carried, schema)
    decided = [json.dumps(deciders(ra, rb, r, [n for n in outputs if changed[n][r]]), ensure_ascii=False)
               for r in rows[:traced].tolist()]
    column = pa.array(decided + [None] * (len(rows) - len(decided)), pa.string())
    return diff, table.set_column(table.schema.get_field_index("decided"), "decided", column)


def deciders(ra, rb, row: int, names) -> dict:
    """Output → ``"what decides it before → after"`` for one row (``row 4 (id) → row 6 (id)``,
    ``exception not_poor``, ``expr``), each output traced alone by the scalar evaluator."""
    out = {}
    for name in names:
        sides = [_decider(result, row, name) for result in (ra, rb)]
        out[name] = " → ".join(sides)
    return out


def _decider(result, row: int, name: str) -> str:
    from ..columnar.frame import to_records

    program = result.program.program
    record = to_records(program.checked, result.frame, [row])[0]
    trace = program.evaluate(record, result.on, result.frame.entity, outputs=[name], trace=True).trace
    info = next((node.decided_by for node in trace.roots if node.rule == name), None) or {}
    kind = info.get("kind", "")
    if kind == "row":
        return f"row {info.get('row')}" + (f" ({info['id']})" if info.get("id") else "")
    if kind == "exception":
        return f"exception {info.get('id')}"
    return kind or "-"


def _figures(sides, kinds, changed, anything, names, index, moved, totalled, averaged=()) -> list:
    """One :class:`DiffFigures` per group."""
    size = len(names)
    out = [DiffFigures(int(r), int(c)) for r, c in zip(gr.count(index, size), gr.count(index, size, anything))]
    for name, mask in changed.items():
        for fig, c in zip(out, gr.count(index, size, mask).tolist()):
            fig.outputs[name] = c
    for name in moved:
        if kinds[name] not in ("enum", "bool"):
            continue
        (ca, la), (cb, lb) = states(sides[name][0], kinds[name]), states(sides[name][1], kinds[name])
        table = gr.pairs(index, size, ca * len(lb) + cb, len(la) * len(lb), np.ones(len(index), bool))
        for fig in out:
            fig.moves[name] = Counter()
        groups, cells = np.nonzero(table)  # only the pairs that occur: a few per group
        for g, k, v in zip(groups.tolist(), cells.tolist(), table[groups, cells].tolist()):
            out[g].moves[name][(la[k // len(lb)], lb[k % len(lb)])] = v
    for names_of, attr in ((totalled, "money"), (averaged, "sums")):
        for name in names_of:
            a, b = sides[name]
            before = gr.total(index, size, a.values, a.state == 0), gr.count(index, size, a.state == 0)
            after = gr.total(index, size, b.values, b.state == 0), gr.count(index, size, b.state == 0)
            for i, fig in enumerate(out):
                getattr(fig, attr)[name] = [before[0][i], int(before[1][i]), after[0][i], int(after[1][i])]
    return out


def changed_schema(key: str, carried, outputs) -> pa.Schema:
    """The columns of the changed rows' file."""
    fields = [pa.field(key, pa.string()), *(pa.field(k, pa.string()) for k in carried), pa.field("changed", pa.string())]
    for name in outputs:
        fields += [pa.field(f"{name}:before", pa.string()), pa.field(f"{name}:after", pa.string())]
    return pa.schema([*fields, pa.field("because", pa.string()), pa.field("decided", pa.string())])


def _changed_table(ra, rb, outputs, changed, rows, causes, ids, carried, schema) -> pa.Table:
    take = pa.array(rows, pa.int64())
    ids = ids if isinstance(ids, pa.Array) else pa.array([str(v) for v in ids], pa.string())
    columns = [ids.take(take), *(c.take(take) for c in carried)]
    names, because, texts = [], [], []
    for name in outputs:
        mask = changed[name][rows]
        if not mask.any():
            texts += [pa.nulls(len(rows), pa.string())] * 2
            continue
        names.append(_part(mask, f", {name}"))
        because.append(_part(mask, ", " + json.dumps(name, ensure_ascii=False) + ": "
                             + json.dumps([c.text() for c in causes.get(name, ())], ensure_ascii=False)))
        for result in (ra, rb):
            texts.append(pc.if_else(pa.array(mask), _texts(result, name, rows), pa.nulls(len(rows), pa.string())))
    columns.append(_joined(names, len(rows), "", ""))
    columns += texts
    columns.append(_joined(because, len(rows), "{", "}"))
    columns.append(pa.nulls(len(rows), pa.string()))  # decided: filled by compare_frame
    return pa.Table.from_arrays(columns, schema=schema)


def _part(mask: np.ndarray, text: str) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(text), pa.scalar(""))


def _joined(parts: list, n: int, head: str, tail: str) -> pa.Array:
    """The parts of each row joined, their first ``", "`` dropped, between head and tail."""
    if not parts:
        return pa.repeat(pa.scalar(head + tail), n).cast(pa.string())
    inner = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*parts, ""), 2)
    return pc.binary_join_element_wise(head, inner, tail, "")


def _texts(result, name: str, rows: np.ndarray) -> pa.Array:
    """The output's value in ``rows`` as text, ``unknown`` or ``error`` for those states."""
    checked = result.program.program.checked
    unknown, error = result.unknown[name][rows], result.error[name][rows]
    values = output_array(result.values[name][rows], unknown | error, checked.rules[name].type, checked)
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    text = pc.if_else(pa.array(unknown), pa.scalar(STATES[0]), text)
    return pc.if_else(pa.array(error), pa.scalar(STATES[1]), text)
