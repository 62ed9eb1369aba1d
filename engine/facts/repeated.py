"""Names given twice in one record: a CSV or sheet header, a Parquet schema (a struct's
fields included) or a JSON object.

A reader that kept one of the two would drop a fact without a word: ``json.loads`` keeps
the last value of a repeated key, a dict built from a header keeps the last cell, and
pyarrow picks one of two same-named columns. So each reader asks here first and reports
the repetition: a file's header or schema stops the run before anything is read (E804 at
the file), a JSON line is quarantined with its line number (E804), a request body is
refused (E871).
"""
from __future__ import annotations

from ...dsl.errors import Bilingual


class RepeatedKey(ValueError):
    """A JSON object names ``key`` twice (a ``ValueError``, as json's own errors are)."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"key {key!r} appears twice in one object")

    def detail(self, zh_where: str = "", en_where: str = "") -> Bilingual:
        """The reason, after an optional place (``第 3 行：`` / ``line 3: ``)."""
        key = shown(self.key)
        return Bilingual(f"{zh_where}字段 `{key}` 在同一对象中出现两次（只能给一次）",
                         f"{en_where}key `{key}` appears twice in one object (give it once)")


def unique_object(pairs: list) -> dict:
    """``object_pairs_hook`` for ``json.loads``: the object as a dict; RepeatedKey when a
    key appears twice (the default keeps the last value silently)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return found


def repeats(names) -> dict:
    """``{name: [1-based positions]}`` of the names that appear more than once."""
    where: dict = {}
    for i, name in enumerate(names, 1):
        where.setdefault(name, []).append(i)
    return {name: at for name, at in where.items() if len(at) > 1}


def schema_repeats(schema) -> dict:
    """Repeated names of a pyarrow schema, nested ones too: ``{path: [positions]}`` with
    paths as fupin writes them (``members[].age``)."""
    found = {}
    _walk([(f.name, f.type) for f in schema], "", found)
    return found


def _walk(fields: list, prefix: str, found: dict) -> None:
    import pyarrow as pa

    for name, at in repeats([n for n, _ in fields]).items():
        found[prefix + name] = at
    for name, typ in fields:
        inner, step = typ, ""
        while pa.types.is_list(inner) or pa.types.is_large_list(inner) or pa.types.is_fixed_size_list(inner):
            inner, step = inner.value_type, step + "[]"
        if pa.types.is_struct(inner):
            _walk([(inner.field(i).name, inner.field(i).type) for i in range(inner.num_fields)],
                  f"{prefix}{name}{step}.", found)


def header_detail(found: dict, schema: bool = False) -> Bilingual:
    """E804's detail for repeated column names (every one of them, in the file's order)."""
    zh, en = [], []
    for name, at in found.items():
        cols = "、".join(map(str, at))
        if schema:
            zh.append(f"列 `{shown(name)}` 出现 {len(at)} 次")
            en.append(f"column `{shown(name)}` appears {len(at)} times")
        else:
            zh.append(f"列名 `{shown(name)}` 出现 {len(at)} 次（第 {cols} 列）")
            en.append(f"column `{shown(name)}` appears {len(at)} times (columns {', '.join(map(str, at))})")
    where_zh, where_en = ("文件结构中", "in the file's schema") if schema else ("表头中", "in the header")
    return Bilingual(f"{where_zh}{'；'.join(zh)}：每列只能有一个名字，否则其中一列的值会被丢弃",
                     f"{'; '.join(en)} {where_en}: each column needs a name of its own, or one column's "
                     "values would be dropped")


def shown(name) -> str:
    """A name from the input, printable and short (it may hold anything)."""
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in str(name))
    return text if len(text) <= 60 else text[:57] + "…"
