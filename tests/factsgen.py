"""Hypothesis strategies for random, valid entity facts of any checked policy.

Numbers are drawn near the thresholds the policy itself uses (its literals and
parameter values, ± one step), so random facts fall on both sides of every boundary;
any optional fact may be missing (unknown) and any child list may be absent or empty.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from fupin.dsl import typed as t


def interesting(checked) -> dict:
    """Boundary candidates by kind, from the policy's literals and parameter values."""
    found = {"integer": {0, 1, 2}, "money": {Decimal(0)}, "decimal": {Decimal(0), Decimal(1)},
             "ratio": {Decimal(0), Decimal(1)}, "date": {dt.date(2020, 6, 30)}}

    def add(kind, value):
        if value is None or isinstance(value, bool) or not hasattr(value, "__sub__"):
            return
        if kind == "date" and isinstance(value, dt.date):
            found["date"] |= {value, value - dt.timedelta(days=1), value + dt.timedelta(days=1)}
        elif kind == "integer" and isinstance(value, int):
            found["integer"] |= {value - 1, value, value + 1}
        elif kind in ("money", "decimal", "ratio") and isinstance(value, (int, Decimal)):
            step = Decimal("0.01")
            found[kind] |= {Decimal(value) - step, Decimal(value), Decimal(value) + step}
            if kind == "money":
                found["integer"].add(int(value))

    for p in checked.params.values():
        for _, value in p.periods:
            add(p.type.kind, value)
    for rule in checked.rules.values():
        for root in rule.roots():
            for node in t.walk(root):
                if isinstance(node, t.TLit):
                    add(node.type.kind, node.value)
                    if node.type.kind in ("integer", "decimal"):
                        add("money", node.value)
                        add("ratio", node.value)
    return {k: sorted(v) for k, v in found.items()}


def facts(checked, entity: str, depth: int = 0, missing: float = 0.15):
    """A strategy for one entity's typed-looking raw facts (valid against the policy)."""
    cands = interesting(checked)
    return _entity(checked, entity, cands, depth)


def _entity(checked, entity, cands, depth):
    ent = checked.entities[entity]
    values, kids = {}, {}
    for name, fld in ent.fields.items():
        if fld.child:
            if depth < 2:
                kids[name] = (fld, st.lists(_entity(checked, fld.child, cands, depth + 1), min_size=0, max_size=3))
            continue
        values[name] = (fld, _value(checked, fld, cands))

    @st.composite
    def build(draw):
        # Half the entities have every fact; the others miss some (unknowns).
        rate = draw(st.sampled_from([0.0, 0.0, 0.03, 0.3]))
        out = {}
        for name, (fld, strategy) in {**values, **kids}.items():
            if not fld.required and rate and draw(st.floats(0, 1)) < rate:
                continue
            out[name] = draw(strategy)
        return out

    return build()


def _value(checked, fld, cands):
    kind = fld.type.kind
    if kind == "bool":
        return st.sampled_from([True] * 6 + [False])  # mostly true: conjunctions of guarantees then pass
    if kind == "enum":
        return st.sampled_from(list(checked.enums[fld.type.name].values))
    if kind == "string":
        return st.sampled_from(["a", "b", "c"])
    pool = [v for v in cands.get(kind, [0]) if _within(fld, v)]
    if kind == "money":
        pool = [v for v in pool if v == v.quantize(Decimal("0.01"))]
    if not pool:
        pool = [fld.min if fld.min is not None else 0]
    return st.sampled_from(pool)


def _within(fld, v) -> bool:
    try:
        return (fld.min is None or v >= fld.min) and (fld.max is None or v <= fld.max)
    except TypeError:
        return False
