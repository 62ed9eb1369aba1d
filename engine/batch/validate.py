"""Validate a raw chunk (``levels.Level``) into a typed ``Frame``, deciding like FactsChecker.

A row is invalid when any of its fields, or any field of any of its children, is: a
required field missing (E801), a value of the wrong type, an unknown enum value or money
below the fen (E802), a value outside the field's [min, max] (E803), a list that is not
a list or holds something other than objects (E802), too many children (E810). The
decision is made on whole columns (``columns.py``); the *reasons* for the few invalid
rows are then produced by the scalar ``FactsChecker`` on those rows alone
(:meth:`Validator.reasons`), so they read exactly as ``fupin eval`` reports them.
Undeclared columns are remembered once per column (W906, with a did-you-mean), not per
row. Columns that fit another entity much better than this one (a village's, read as
households) stop the run before anything is evaluated (E817, with the ``--entity`` to give),
and so does a first chunk in which no row has a list whose children the policy says come
from a file of their own in flat inputs (the child declares ``parent_key``; E816), unless
the list is declared ``optional``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...dsl.errors import Bilingual, FupinError, Span, error
from ..facts.names import looks_like, undeclared, wrong_entity
from ..columnar.frame import Children, Column, Frame, TextColumn, empty_array
from .columns import CellChecker, convert, is_text, null_mask
from .layout import layout_of
from .levels import Level, Nested, none_mask, single

FACTS_SPAN = Span("<facts>", 0, 0)


@dataclass
class Validated:
    """A chunk's typed frame (all rows), which rows are invalid, and format limits hit."""

    frame: Frame
    bad: np.ndarray
    marks: dict = field(default_factory=dict)  # row -> [(field path, "int64" | "fen")]


class Validator:
    """Validates chunks of one entity (with its children) for one checked policy."""

    def __init__(self, checked, entity: str, facts_checker):
        self.checked = checked
        self.layout = layout_of(checked, entity)
        self.facts = facts_checker
        # the parent keys (a household's village_id, the village's township_id): not facts, never warned about
        self.silent = set(self.layout.kept) | set(checked.parent_keys(entity))
        self.undeclared: list = []  # column paths seen and ignored (W906), in order
        self.structure_seen = False  # the first chunk with rows was checked for absent lists (E816)
        self._cells: dict = {}
        self._fillers: dict = {}

    def validate(self, level: Level) -> Validated:
        """The typed frame of a chunk and its invalid rows (E817 raised if the columns
        are another entity's)."""
        self._check_entity(level)
        if level.n and not self.structure_seen:
            self.structure_seen = True
            _lists_present(level, self.layout, "")
        return self._level(level, self.layout, "")

    def _check_entity(self, level: Level) -> None:
        names = [*level.columns, *level.lists, *(p for p in self.undeclared if "[]." not in p)]
        other = looks_like(self.checked, self.layout.entity, names) if level.n else None
        if other is not None:
            ent = self.checked.entities[self.layout.entity]
            raise FupinError(wrong_entity(Span("<arguments>", 0, 0), ent, "*", self.layout.label, *other))

    def reasons(self, record, marks=()) -> list:
        """The diagnostics of one invalid row: FactsChecker's, plus format limits it misses."""
        _, diags = self.facts.validate(record, self.layout.entity, allow_unknown=True)
        found = [d for d in diags if d.severity == "error"]
        seen = {d.args.get("path") for d in found}
        ident = record.get(self.layout.key) if isinstance(record, dict) else None
        for path, reason in marks:
            if path not in seen:
                found.append(limit_diagnostic(self.layout.label, ident, path, reason))
        return found

    def note_skipped(self, paths) -> None:
        """Undeclared columns the reader did not read (W906 as if they had been seen)."""
        self._note_paths(paths, self.undeclared)

    def _note_paths(self, paths, into: list) -> None:
        for path in paths:
            if not ("[]." not in path and path in self.silent) and path not in into:
                into.append(path)

    def resume(self, seen: list) -> None:
        """Take ``seen`` (from :meth:`seen_after`) as the undeclared columns noted so far."""
        self.undeclared[:] = seen

    def seen_after(self, seen: list, level: Level, skipped=()) -> list:
        """``seen`` (undeclared column paths, in order) with a chunk's own added as
        :meth:`validate` would note them, without validating it or changing this validator:
        the main process of a run with worker processes tells each worker the columns the
        chunks before its chunk had, so that E817 weighs the same names as one process."""
        out = list(seen)
        self._note_paths(skipped, out)
        self._note_all(level, self.layout, "", out)
        return out

    def _note_all(self, level: Level, layout, prefix: str, into: list) -> None:
        self._note_undeclared(level, layout, prefix, into)
        for name, child in layout.lists.items():
            nested = level.lists.get(name)
            if nested is not None:
                self._note_all(nested.level, child, f"{prefix}{name}[].", into)

    def warnings(self) -> list:
        """One W906 per undeclared column (the id is the column, not a row), with a did-you-mean."""
        return [self._undeclared(p) for p in self.undeclared]

    def _undeclared(self, path: str):
        *parents, name = path.split("[].")
        layout = self.layout
        for step in parents:
            layout = layout.lists.get(step, layout)
        ent = self.checked.entities[layout.entity]
        return undeclared("W906", FACTS_SPAN, ent, name, path, "*", self.layout.label)

    # --- one level

    def _level(self, level: Level, layout, prefix: str) -> Validated:
        n = level.n
        bad = none_mask(n) if level.not_object is None else level.not_object.copy()
        out = Validated(Frame(layout.entity, n), bad)
        self._note_undeclared(level, layout, prefix)
        for name, spec in layout.fields.items():
            self._scalar(level, layout, spec, out)
        for name, child in layout.lists.items():
            nested = level.lists.get(name) or Nested(Level(child.entity, 0), np.zeros(0, dtype=np.int64),
                                                     np.ones(n, dtype=bool), none_mask(n))
            self._list(name, child, nested, layout, out, prefix)
        return out

    def _note_undeclared(self, level, layout, prefix, into: list | None = None):
        into = self.undeclared if into is None else into
        for name in level.columns:
            path = prefix + str(name)
            if not layout.declared(name) and not (prefix == "" and name in self.silent) and path not in into:
                into.append(path)

    def _scalar(self, level, layout, spec, out: Validated) -> None:
        n = level.n
        raw = level.columns.get(spec.name)
        if raw is None:
            data, missing = self._absent(spec.kind, n)
            out.frame.columns[spec.name] = Column(data, missing if n else None)
        elif spec.kind == "string" and is_text(raw):
            # any text is a valid string: kept as Arrow text until a rule reads it (frame.TextColumn)
            raw = single(raw)
            missing = null_mask(raw)
            out.frame.columns[spec.name] = TextColumn(raw, missing if missing.any() else None)
        else:
            conv = convert(raw, spec, self._cell(layout, spec))
            missing = conv.missing
            out.bad |= conv.bad
            for row, reason in conv.limit.items():
                out.marks.setdefault(row, []).append((spec.name, reason))
            out.frame.columns[spec.name] = Column(conv.data, missing if missing.any() else None)
        if spec.required:
            out.bad |= missing  # E801

    def _list(self, name, child, nested: Nested, layout, out: Validated, prefix: str) -> None:
        n = out.frame.n
        sub = self._level(nested.level, child, f"{prefix}{name}[].")
        out.bad |= nested.not_list
        if name in layout.required_lists:
            out.bad |= nested.missing
        counts = np.bincount(nested.parent, minlength=n)
        out.bad |= counts > layout.limits[name]
        if sub.bad.any():
            out.bad[nested.parent[sub.bad]] = True
        if sub.marks:
            starts = np.concatenate(([0], np.cumsum(counts)))
            for row, items in sub.marks.items():
                parent = int(nested.parent[row])
                index = row - int(starts[parent])
                out.marks.setdefault(parent, []).extend((f"{name}[{index}].{p}", r) for p, r in items)
        missing = nested.missing
        out.frame.children[name] = Children(sub.frame, nested.parent, missing if missing.any() else None)

    def _absent(self, kind: str, n: int):
        """Filler data and an all-missing mask for a field absent from the input.

        Shared by every absent field of that kind and size, and read-only: a chunk of
        the full policy may lack dozens of fields, and allocating them all again per
        chunk would cost more than reading the data.
        """
        key = (kind, n)
        if key not in self._fillers:
            if len(self._fillers) > 64:
                self._fillers.clear()
            data, missing = empty_array(kind, n), np.ones(n, dtype=bool)
            data.flags.writeable = missing.flags.writeable = False
            self._fillers[key] = (data, missing)
        return self._fillers[key]

    def _cell(self, layout, spec) -> CellChecker:
        key = (layout.entity, spec.name)
        if key not in self._cells:
            self._cells[key] = CellChecker(self.facts, spec)
        return self._cells[key]


def _lists_present(level: Level, layout, prefix: str) -> None:
    """E816 for a list the policy expects in flat inputs (its child declares ``parent_key``,
    it is not ``optional``) that no row of this chunk has, at any depth with rows."""
    for name, child in layout.lists.items():
        nested = level.lists.get(name)
        if nested is not None:
            if nested.level.n:
                _lists_present(nested.level, child, f"{prefix}{name}[].")
        elif child.parent_key and name not in layout.optional_lists:
            raise FupinError(error("E816", Span("<arguments>", 0, 0), path=prefix + name, name=name, child=child.label,
                                   detail=Bilingual("输入的第一块中没有任何一行有这一列", "no row of the input's first chunk has it"),
                                   hint=Bilingual(f"每行给出 `{name}`（没有下级时写 []）；若确实没有这些数据，在政策中为该列表字段写 optional: true",
                                                  f"give `{name}` in each row (`[]` for none); if there really is no such data, "
                                                  f"declare the list field optional: true")))


def limit_diagnostic(label, ident, path: str, reason: str):
    """A value the columnar format cannot hold although the scalar checker accepts it."""
    if reason == "fen":
        from ..facts.validate import MONEY_TO_THE_FEN

        return error("E802", FACTS_SPAN, entity=label, id=ident, path=path, expected=MONEY_TO_THE_FEN, value="…")
    return error("E810", FACTS_SPAN, detail=Bilingual(f"{path}：整数超出 64 位范围（批量求值的列式格式）",
                                                      f"{path}: a whole number beyond 64 bits (the columnar batch format)"))
