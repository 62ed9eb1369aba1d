"""One entity level during a columnar evaluation: its frame, rule cache, parent, children.

The columnar counterpart of scalar/env.py: where the scalar evaluator has one Env per
entity instance, a :class:`Level` stands for all rows of one entity kind at once.
"""
from __future__ import annotations

import numpy as np

from . import why
from .frame import Frame
from .vector import V


class Level:
    """All rows of one entity level, with cached rule values."""

    __slots__ = ("run", "frame", "n", "parent", "parent_index", "cache", "kids", "entity", "_bounds", "_prefixes",
                 "_field", "_missing", "_classes")

    def __init__(self, run, frame: Frame, parent=None, parent_index=None, field: str = "", root: str = ""):
        self.run, self.frame, self.n, self.entity = run, frame, frame.n, frame.entity
        self.parent, self.parent_index = parent, parent_index
        self.cache: dict = {}
        self.kids: dict = {}
        self._bounds = None
        self._prefixes = root  # a root's path prefix, or (after first use) ids per row
        self._field = field  # the parent's list field this level's rows come from
        self._missing: dict = {}
        self._classes = None  # (distinct prefix ids, per row the index of its prefix)

    def prefixes(self) -> np.ndarray:
        """Per row, the id (in the evaluation's ``Whys``) of its path prefix, as the
        scalar evaluator names facts: ``""`` at the root, ``members[2].`` below it."""
        if isinstance(self._prefixes, np.ndarray):
            return self._prefixes
        whys = why.current()
        if self.parent is None or not self._field:
            ids = np.full(self.n, whys.prefix(self._prefixes), dtype=np.int32)
        else:
            parents, parent_class = self.parent.prefix_classes()
            starts, ends = self.bounds(self.parent.n)
            position = np.arange(self.n, dtype=np.int64) - starts[self.parent_index]
            # (parent's prefix, position) pairs, counted rather than sorted: both are small,
            # and their order is the sorted order of the pairs
            width = int((ends - starts).max()) if self.n else 1
            key = parent_class[self.parent_index].astype(np.int64) * width + position
            uniq, inverse = why.classes(key, len(parents) * width) if self.n else (key, key)
            table = np.array([whys.prefix(f"{whys.prefixes[parents[k // width]]}{self._field}[{k % width}].")
                              for k in uniq.tolist()] or [0], dtype=np.int32)
            ids = table[inverse] if self.n else np.zeros(0, dtype=np.int32)
            if self.n:  # distinct pairs name distinct prefixes: these are the level's classes too
                self._classes = (table, inverse.astype(np.intp, copy=False))
        self._prefixes = ids
        return ids

    def prefix_classes(self):
        """``(distinct prefix ids, per row the index of its prefix among them)``: a level
        has few distinct prefixes (one at the root, one per list position below)."""
        if self._classes is None:
            ids = self.prefixes()
            if self._classes is not None:  # found with the prefixes
                return self._classes
            whys = why.current()
            distinct, inverse = why.classes(ids, len(whys.prefixes)) if self.n else (ids, ids)
            # intp: the index type of a gather (an int32 index is converted on every take)
            self._classes = (distinct, inverse.astype(np.intp, copy=False))
        return self._classes

    def missing_why(self, name: str, mask: np.ndarray) -> np.ndarray:
        """Ids of ``{path + name}`` on the rows of ``mask`` (a fact or list that is absent)."""
        if why.current() is None:
            return None
        found = self._missing.get(name)
        if found is None:
            found = self._missing[name] = why.fact_ids(self.prefix_classes(), name, mask)
        return found

    def bounds(self, n_parents: int):
        """Per parent row, this level's rows [start, end): children are sorted by parent."""
        if self._bounds is None:
            counts = np.bincount(self.parent_index, minlength=n_parents) if self.n else np.zeros(n_parents, np.int64)
            ends = np.cumsum(counts)
            self._bounds = (ends - counts, ends)
        return self._bounds

    def rule(self, name: str) -> V:
        found = self.cache.get(name)
        if found is None:
            found = self.cache[name] = self.run.rules[name](self)
        return found

    def children(self, field: str):
        """(child level, parent row of each child, parent rows whose list is absent)."""
        found = self.kids.get(field)
        if found is None:
            ch = self.frame.children.get(field)
            if ch is None:
                child = self.run.program.child_entity(self.entity, field)
                empty = Frame(child, 0)
                found = (Level(self.run, empty, self, np.zeros(0, dtype=np.int64), field),
                         np.zeros(0, dtype=np.int64), np.ones(self.n, dtype=bool))
            else:
                found = (Level(self.run, ch.frame, self, ch.parent, field), ch.parent, ch.missing)
            self.kids[field] = found
        return found

    def release(self) -> None:
        """Drop this level's and its descendants' caches and links once an evaluation is
        done. A child points at its parent and the parent at it (``kids``): left alone,
        the cycle keeps every cached array of the evaluation alive until Python's cycle
        collector runs, which in a batch over many chunks meant several chunks' worth."""
        for child, _, _ in self.kids.values():
            child.release()
        self.kids.clear()
        self.cache.clear()
        self._missing.clear()
        self.parent = None

    def up(self, levels: int):
        """(ancestor level, ancestor row of each of this level's rows)."""
        level, index = self, None
        for _ in range(levels):
            if level.parent is None:
                # Evaluated without its parent: one parent per row, with no facts (unknown).
                name = self.run.program.parent_entity(level.entity)
                level.parent = Level(self.run, Frame(name, level.n), root=f"{name}.")
                level.parent_index = np.arange(level.n, dtype=np.int64)
            step = level.parent_index
            index = step if index is None else step[index]
            level = level.parent
        return level, index
