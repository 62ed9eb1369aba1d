"""One entity level during a columnar evaluation: its frame, rule cache, parent, children.

The columnar counterpart of engine/env.py: where the scalar evaluator has one Env per
entity instance, a :class:`Level` stands for all rows of one entity kind at once.
"""
from __future__ import annotations

import numpy as np

from .frame import Frame
from .vector import V


class Level:
    """All rows of one entity level, with cached rule values."""

    __slots__ = ("run", "frame", "n", "parent", "parent_index", "cache", "kids", "entity", "_bounds")

    def __init__(self, run, frame: Frame, parent=None, parent_index=None):
        self.run, self.frame, self.n, self.entity = run, frame, frame.n, frame.entity
        self.parent, self.parent_index = parent, parent_index
        self.cache: dict = {}
        self.kids: dict = {}
        self._bounds = None

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
                found = (Level(self.run, empty, self, np.zeros(0, dtype=np.int64)),
                         np.zeros(0, dtype=np.int64), np.ones(self.n, dtype=bool))
            else:
                found = (Level(self.run, ch.frame, self, ch.parent), ch.parent, ch.missing)
            self.kids[field] = found
        return found

    def up(self, levels: int):
        """(ancestor level, ancestor row of each of this level's rows)."""
        level, index = self, None
        for _ in range(levels):
            if level.parent is None:
                # Evaluated without its parent: one parent per row, with no facts (unknown).
                name = self.run.program.parent_entity(level.entity)
                level.parent = Level(self.run, Frame(name, level.n))
                level.parent_index = np.arange(level.n, dtype=np.int64)
            step = level.parent_index
            index = step if index is None else step[index]
            level = level.parent
        return level, index
