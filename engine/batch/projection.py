"""Which columns of a Parquet file to decode: the declared fields, not the whole file.

A register often has many more columns than a policy declares (the benchmark input has
every field of the pack; a small ruleset reads a sixth of them), and decoding Parquet is
most of the batch's reading time. Parquet stores each leaf column apart, so the reader can
skip the others entirely, down to single fields of the members' ``list<struct>``.

What is skipped is still reported: the paths of undeclared columns come back with the
selection, spelled as the validator spells them (``x``, ``members[].y``), so the W906
warnings are the same as when every column is read.

Anything unusual is read whole and left to the validator as before: a declared list
column that is not a standard three-level Parquet list of structs, or one none of whose
declared fields is in the file (its lengths and nulls still matter).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Projection:
    """Parquet leaf paths to read (None: all of them) and the undeclared paths skipped."""

    columns: list | None = None
    skipped: list = field(default_factory=list)


def project(parquet_schema, layout, keep=()) -> Projection:
    """The selection for a file with this ``pq.ParquetSchema`` and this entity layout;
    columns named in ``keep`` (grouping columns such as ``village_id``) are read too."""
    arrow = parquet_schema.to_arrow_schema()
    leaves: dict = {}
    for i in range(len(parquet_schema)):
        path = parquet_schema.column(i).path
        leaves.setdefault(path.split(".", 1)[0], []).append(path)
    columns, skipped, top_skipped, nested_skipped = [], [], [], []
    for f in arrow:
        if f.name in keep or layout.declared(f.name) and f.name not in layout.lists:
            columns.extend(leaves.get(f.name, []))
        elif f.name in layout.lists:
            chosen, undeclared = _list_leaves(f, leaves.get(f.name, []), layout.lists[f.name])
            columns.extend(chosen)
            nested_skipped.extend(undeclared)
        else:
            top_skipped.append(f.name)
    # the validator notes a level's own columns before descending into its lists
    skipped = top_skipped + nested_skipped
    if not skipped:
        return Projection(None, [])
    return Projection(columns, skipped)


def _list_leaves(f: pa.Field, paths: list, child) -> tuple:
    """(leaf paths to read, undeclared child paths skipped) for a declared list column."""
    element = _struct_of(f.type)
    names = {element.field(i).name for i in range(element.num_fields)} if element is not None else set()
    by_child: dict = {}
    for path in paths:
        parts = path.split(".")
        # the standard layout: name.list.element.child…; anything else is read whole
        if len(parts) < 4 or parts[3] not in names:
            return paths, []
        by_child.setdefault(parts[3], []).append(path)
    wanted = [name for name in by_child if child.declared(name)]
    if not wanted:
        return paths, []  # still needed: which lists are absent, empty or how long
    chosen = [p for name in wanted for p in by_child[name]]
    order = [element.field(i).name for i in range(element.num_fields)]
    return chosen, [f"{f.name}[].{name}" for name in order if not child.declared(name)]


def _struct_of(t: pa.DataType):
    """The struct type of a list's items, or None when the column is not a list of structs."""
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return t.value_type if pa.types.is_struct(t.value_type) else None
    return None


def dictionary_paths(parquet_schema, layout, keep=(), columns=None) -> list:
    """The leaf paths of text columns that hold a declared enum, to read as dictionary arrays.

    An enum column repeats a handful of values over millions of rows, and Parquet stores
    it dictionary-encoded: read as a dictionary, the validator decides each distinct
    text once and spreads it by the indices (columns.py), where read as text it would
    hash every cell. The top level's enum fields and those of a declared list's items
    (``members.list.element.labor``), text-typed in the file and among ``columns``
    (None: all); not the columns in ``keep`` nor the entity's key, which are carried to
    the output as read."""
    arrow = parquet_schema.to_arrow_schema()
    wanted = None if columns is None else set(columns)
    found = []
    for f in arrow:
        if f.name in keep or f.name == layout.key:
            continue
        if f.name in layout.fields and _enum_text(layout.fields[f.name], f.type):
            found.append(f.name)
        elif f.name in layout.lists and (element := _struct_of(f.type)) is not None:
            child = layout.lists[f.name]
            found.extend(f"{f.name}.list.element.{sub.name}" for sub in element
                         if sub.name in child.fields and _enum_text(child.fields[sub.name], sub.type))
    leaves = {parquet_schema.column(i).path for i in range(len(parquet_schema))}
    return [p for p in found if p in leaves and (wanted is None or p in wanted)]


def _enum_text(spec, t: pa.DataType) -> bool:
    return spec.kind == "enum" and (pa.types.is_string(t) or pa.types.is_large_string(t))
