"""What a batch input must look like for one entity: its fields, their kinds and bounds.

A :class:`Layout` is derived once from the checked policy and describes one entity level
recursively (a household with its members, a village with its households and their
members). Bounds are converted to the column representation of ``engine/columnar``
(fen for money, days for dates) so that range checks run on whole arrays.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from ..columnar.frame import EPOCH, enum_values
from ..facts.names import entity_label
from ..facts.validate import max_children


@dataclass
class FieldSpec:
    """One scalar field: its kind, enum values and inclusive bounds in representation."""

    name: str
    kind: str
    fld: object  # the checked field (dsl/checker/checked.py CField)
    enum_values: tuple = ()
    lo: int | None = None
    hi: int | None = None
    vector_bounds: bool = True  # False: bounds only checked cell by cell (decimal, ratio…)

    @property
    def required(self) -> bool:
        return bool(self.fld.required)


@dataclass
class Layout:
    """One entity level: scalar fields, list fields (with their child layouts), the key."""

    entity: str
    key: str
    label: dict  # Bilingual: how messages name the entity
    parent_key: str | None = None  # flat files: the column naming the parent (declared)
    fields: dict = field(default_factory=dict)  # name -> FieldSpec
    lists: dict = field(default_factory=dict)  # name -> Layout of the child entity
    required_lists: tuple = ()
    optional_lists: tuple = ()  # lists an input may leave out entirely (declared optional)
    limits: dict = field(default_factory=dict)  # list name -> most children allowed

    def declared(self, name: str) -> bool:
        """Whether an input column is a declared field (scalar or list)."""
        return name in self.fields or name in self.lists

    @property
    def kept(self) -> tuple:
        """Undeclared top-level columns read and kept beside the facts: the parent key,
        which groups rows for a summary and is not a fact (never warned about, W906)."""
        return (self.parent_key,) if self.parent_key else ()


def layout_of(checked, entity: str) -> Layout:
    """The layout of ``entity`` and its descendants in a checked policy."""
    ent = checked.entities[entity]
    label = entity_label(ent, entity)
    out = Layout(entity, ent.key, label, ent.parent_key)
    required_lists = []
    for name, fld in ent.fields.items():
        if fld.child:
            out.lists[name] = layout_of(checked, fld.child)
            out.limits[name] = max_children(fld)
            if fld.required:
                required_lists.append(name)
        else:
            out.fields[name] = field_spec(checked, fld)
    out.required_lists = tuple(required_lists)
    out.optional_lists = tuple(n for n, f in ent.fields.items() if f.child and f.optional)
    return out


def field_spec(checked, fld) -> FieldSpec:
    """A field's spec with its bounds in column representation."""
    kind = fld.type.kind
    spec = FieldSpec(fld.name, kind, fld, enum_values(checked, fld.type))
    if fld.min is None and fld.max is None:
        return spec
    if kind not in ("integer", "money", "date"):
        spec.vector_bounds = False
        return spec
    spec.lo = None if fld.min is None else _to_repr(fld.min, kind, math.ceil)
    spec.hi = None if fld.max is None else _to_repr(fld.max, kind, math.floor)
    return spec


def _to_repr(bound, kind: str, rounding) -> int:
    """A bound in representation; fractional bounds rounded inwards (the values are whole)."""
    if kind == "date":
        day = bound if isinstance(bound, dt.date) else dt.date.fromisoformat(str(bound))
        return (day - EPOCH).days
    value = Decimal(bound) * (100 if kind == "money" else 1)
    return int(rounding(value))
