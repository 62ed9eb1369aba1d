"""The ``unknown`` result column: what each row's undecided outputs wait for.

Three encodings (``fupin batch --unknown``; the run record names the one used):

- ``compact`` (the default for Parquet): per row a list of dictionary-encoded items,
  ``list<dictionary<int32, string>>``. An item is one output and the facts it waits
  for, written as the JSON object member ``"name": ["fact", …]``; the dictionary of a
  chunk (a Parquet row group's dictionary page) is the small lookup table of the
  distinct (output, fact set) pairs, and a row stores only their int32 ids. The row's
  JSON text is ``"{" + ", ".join(items) + "}"`` (:func:`as_json`), byte for byte the
  ``json`` column.
- ``json``: one JSON text per row (``{"name": ["fact", …], …}``, ``{}`` when all is
  decided), as fupin wrote it before; CSV and .xlsx results always hold this.
- ``off``: no ``unknown`` column, and (with ``--three-valued``) no tracking of the
  facts unknowns wait for, which costs about as much as the evaluation itself.

Building the compact column needs no text per row: per output, one item per distinct
fact-set id (columnar why.py), then each output's item ids written into the rows where
it has one, in the order of the outputs (sparse: no rows × outputs matrix).
A chunk's items are in the order of outputs, then of their fact lists: the dictionary
does not depend on how the evaluation numbered the fact sets.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ENCODINGS = ("compact", "json", "off")
COMPACT = pa.list_(pa.dictionary(pa.int32(), pa.string()))


def column_type(encoding: str):
    """The arrow type of the ``unknown`` column in an encoding (None: no column)."""
    return {"compact": COMPACT, "json": pa.string()}.get(encoding)


def effective(encoding: str, fmt: str) -> str:
    """The encoding a results file gets: text formats (CSV, .xlsx) hold JSON text."""
    return "json" if encoding == "compact" and fmt != "parquet" else encoding


class Items:
    """The items of one chunk's compact column: ``"name": [facts]`` texts by id."""

    def __init__(self):
        self.texts: list = []
        self._ids: dict = {}

    def add(self, name: str, facts) -> int:
        """The id of an item (interned: one text per distinct output and fact list)."""
        return self.add_text(f"{_json(name)}: {_json(list(facts))}")

    def add_text(self, text: str) -> int:
        """The id of an item given as its text (``"name": [facts]``)."""
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = len(self.texts)
            self.texts.append(text)
        return found


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class _FactTexts:
    """Per fact-set id of a result, its sorted facts and their JSON text, made once for
    all the outputs that wait for that set, and kept for the chunks after it (by the set
    itself: ids are numbered anew in each evaluation, the sets of a pack recur)."""

    def __init__(self, whys):
        self.whys, self.found = whys, {}

    def __call__(self, ident: int):
        found = self.found.get(ident)
        if found is None:
            facts = self.whys.sets[ident]
            found = _KNOWN_TEXTS.get(facts)
            if found is None:
                if len(_KNOWN_TEXTS) >= KNOWN_TEXTS:
                    _KNOWN_TEXTS.clear()  # bounded: a run whose sets never recur starts again
                listed = sorted(facts)
                found = _KNOWN_TEXTS[facts] = (listed, _json(listed))
            self.found[ident] = found
        return found


KNOWN_TEXTS = 1 << 16  # fact sets whose texts are kept from one chunk to the next
_KNOWN_TEXTS: dict = {}  # frozenset of facts -> (sorted facts, their JSON text)


def compact_column(result, explained: dict) -> pa.Array:
    """The compact ``unknown`` column of a columnar result.

    ``explained``: row → ``{output: facts}`` for the rows whose facts came from the
    scalar evaluator (outputs.explanations); those rows take exactly these items.

    Sparse: per output only the rows where it holds an item (an output is unknown on a
    part of the rows), placed into the flat list values at each row's next free slot;
    no dense rows × outputs matrix (its transposition, masking and gathers cost twice
    as much)."""
    names = [name for name in result.outputs if result.unknown[name].any()]
    items, texts = Items(), _FactTexts(result.whys)
    skip = None
    if explained:
        skip = np.zeros(result.n, dtype=bool)
        skip[np.fromiter(explained, dtype=np.int64, count=len(explained))] = True
    # the items of the tracked rows first, output by output, then those of explained
    # rows (in row order): the dictionary's order, as it always was
    parts = [_item_ids(result, name, items, texts, skip) for name in names]
    if explained:
        parts = _with_explained(parts, names, explained, items)
    counts = np.zeros(result.n, dtype=np.int32)
    for rows, _ in parts:
        counts[rows] += 1  # rows are distinct within one output
    offsets = np.zeros(result.n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=np.int32)
    free = offsets[:-1].copy()  # per row, its next slot: outputs fill a row in their order
    for rows, ids in parts:
        slots = free[rows]
        values[slots] = ids
        free[rows] = slots + 1
    dictionary = pa.DictionaryArray.from_arrays(pa.array(values, pa.int32()), pa.array(items.texts, pa.string()))
    return pa.ListArray.from_arrays(pa.array(offsets), dictionary)


def _item_ids(result, name: str, items: Items, texts: _FactTexts, skip=None) -> tuple:
    """``(rows, item ids)`` of output ``name``: the rows where it is unknown with its
    facts tracked (not those of ``skip``, explained by the scalar evaluator)."""
    # ColumnarResult.why is 0 where an output is not unknown, -1 where untracked, a
    # fact-set id (1 and up) elsewhere
    why = result.why[name]
    held = why > 0
    if skip is not None:
        held &= ~skip
    rows = np.flatnonzero(held)
    ids = why[rows]
    marks = np.zeros(len(result.whys.sets), dtype=bool)
    marks[ids] = True  # fact-set ids are small: a lookup, not a sort
    lookup = np.full(len(marks), -1, dtype=np.int32)
    facts = {i: texts(i) for i in np.flatnonzero(marks).tolist()}
    # items in the order of their facts, not of the ids: the ids depend on the order in
    # which the evaluation met the fact sets, the file should not
    prefix = _json(name) + ": "
    for i in sorted(facts, key=lambda i: facts[i][0]):
        lookup[i] = items.add_text(prefix + facts[i][1])
    return rows, lookup.take(ids)


def _with_explained(parts: list, names: list, explained: dict, items: Items) -> list:
    """Each output's ``(rows, item ids)`` with the items of the explained rows added."""
    extra: dict = {name: ([], []) for name in names}
    for row, waits in explained.items():
        for name, facts in waits.items():
            extra[name][0].append(row)
            extra[name][1].append(items.add(name, facts))
    out = []
    for (rows, ids), name in zip(parts, names):
        more_rows, more_ids = extra[name]
        if more_rows:
            rows = np.concatenate((rows, np.array(more_rows, dtype=rows.dtype)))
            ids = np.concatenate((ids, np.array(more_ids, dtype=np.int32)))  # any order: one item per row
        out.append((rows, ids))
    return out


def as_json(column) -> pa.Array:
    """A compact ``unknown`` column as its JSON texts (the ``json`` encoding's column)."""
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([as_json(c) for c in column.chunks], pa.string())
    items = column.cast(pa.list_(pa.string()))
    inner = pc.binary_join(items, ", ")
    return pc.binary_join_element_wise("{", inner, "}", "")


def decoded(table: pa.Table) -> pa.Table:
    """A results table with a compact ``unknown`` column turned into JSON text
    (unchanged otherwise): what ``--unknown json`` would have written."""
    i = table.schema.get_field_index("unknown")
    if i < 0 or table.schema.field(i).type != COMPACT:
        return table
    return table.set_column(i, pa.field("unknown", pa.string()), as_json(table.column(i)))
