"""What-if and why-not: the smallest sets of fact changes that give an output another value.

The candidate changes come from the compiled rules, not from random search: a yes/no fact
flipped, an enum fact set to each other value, a number or date moved to each point where
an outcome of the output's dependency cone can change (its thresholds and one unit either
side, ``exact.Space.domain``: the points exact unknowns settle by). Sets of one change are
tried first, then of two (up to ``max_changes``); a set is an answer when re-evaluating the
facts with it applied gives the target value, so every answer is verified, and no answer
has a proper subset that is one (the search stops at the first size that has answers).
For a number, of the values that work the nearest to the current one is kept in each
direction ("收入再增加 1 元即为黄色").

Facts the pack declares ``mutable: false`` (age, registration) are answers too, marked so
and ranked after the others of their size. For an unknown output the candidates are the
facts it is missing: which value of which fact settles it to each possible value.

The evaluation is the caller's (``outcome(facts)``: the output's value, or :data:`UNSET`
for unknown or an error), so this module knows no evaluator.
"""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from pydantic import BaseModel

from ..core import exact
from .reasons import fact_paths, fields_read, labels_of, value_of, where_of

UNSET = object()  # an outcome that is no value: unknown, or an error
MAX_CHANGES = 2
BUDGET = 20_000  # evaluations per question at most
NEAREST = 8  # a number not only compared with constants: the nearest policy thresholds each side


class Change(BaseModel):
    """One fact changed: from ``old`` (None: missing) to ``new``."""

    path: str
    label: dict | None = None
    where: list[dict] = []
    type: str = ""
    unit: str | None = None
    old: object = None
    new: object = None
    old_label: dict | None = None
    new_label: dict | None = None
    mutable: bool = True


class Alternative(BaseModel):
    """A set of changes that gives the output ``value`` (verified by re-evaluation)."""

    output: str
    value: object = None
    value_label: dict | None = None
    changes: list[Change]

    @property
    def size(self) -> int:
        return len(self.changes)


class Question:
    """One output of one entity's facts, and the facts that may change."""

    def __init__(self, checked, space, entity: str, facts: dict, output: str, missing=()):
        self.checked, self.space, self.entity, self.facts, self.output = checked, space, entity, facts, output
        if missing:  # an unknown output: what settles it
            self.facts_to_change = [(p, self._field(p)) for p in missing if not p.startswith("parameter:")]
            self.facts_to_change = [(p, f) for p, f in self.facts_to_change if f is not None]
        else:
            self.facts_to_change = fact_paths(checked, entity, facts, fields_read(checked, output))

    def _field(self, path: str):
        ent = self.checked.entities[self.entity]
        for seg in path.split(".")[:-1]:
            ent = self.checked.entities[ent.fields[seg.split("[")[0]].child]
        return ent.fields.get(path.split(".")[-1])

    def values(self, path: str, fld) -> list:
        """The candidate new values of one fact (its current value left out), nearest first."""
        old = value_of(self.facts, path)
        kind = fld.type.kind
        if kind == "bool":
            vals = [False, True]
        elif kind == "enum":
            vals = list(self.checked.enums[fld.type.name].values)
        else:
            # another fact it is compared with counts at its value (floor <= income < line)
            vals = self.space.domain(self.entity, path, self.output, lambda other: exact.read(self.facts, other))
            if vals is None:
                vals = self._nearest(kind, old, fld)
            vals = list(vals or ())
        vals = [v for v in vals if v != old]
        if kind not in ("bool", "enum"):
            vals.sort(key=lambda v: self.distance(path, fld, v))
        return vals

    def distance(self, path: str, fld, new):
        """How far a change moves a number or date: from its value, or, for a missing
        fact, from the nearest threshold it is compared with (an answer for a missing
        income names the line, ``4,000 元`` or ``4,000.01 元``, not zero)."""
        old = value_of(self.facts, path)
        if old is not None or fld.type.kind in ("bool", "enum"):
            return _distance(new, old)
        points = self.space.direct(self.output).get((fld.entity, fld.name)) or ()
        return min((_distance(new, p) for p in points if type(p) is type(new) or not isinstance(p, dt.date)),
                   default=0)

    def _nearest(self, kind, old, fld) -> list:
        points = [v for v in self.space.points.get(kind, ()) if (fld.min is None or v >= fld.min)
                  and (fld.max is None or v <= fld.max)]
        if old is None:
            return points[:NEAREST]
        below = [v for v in points if v < old][-NEAREST:]
        above = [v for v in points if v > old][:NEAREST]
        return below + above

    def change(self, path, fld, new) -> Change:
        old = value_of(self.facts, path)
        return Change(path=path, label=labels_of(fld.labels) or {"zh": fld.name, "en": fld.name},
                      where=where_of(self.checked, self.entity, path, self.facts), type=str(fld.type), unit=fld.unit,
                      old=_plain(old), new=_plain(new), old_label=self._enum_label(fld, old),
                      new_label=self._enum_label(fld, new), mutable=fld.mutable)

    def _enum_label(self, fld, value):
        if fld.type.kind != "enum" or value is None:
            return None
        return labels_of(self.checked.enums[fld.type.name].values.get(value))

    def value_label(self, value):
        rtype = self.checked.rules[self.output].type
        if rtype.kind != "enum" or not isinstance(value, str):
            return None
        return labels_of(self.checked.enums[rtype.name].values.get(value))


def search(question: Question, outcome, targets, max_changes: int = MAX_CHANGES, budget: int = BUDGET) -> dict:
    """``target -> [Alternative]``: for each target value, the smallest sets of changes
    (at most ``max_changes``) whose facts re-evaluate to it, ranked (see the module)."""
    candidates = [(p, f, question.values(p, f)) for p, f in question.facts_to_change]
    candidates = [c for c in candidates if c[2]]
    found: dict = {t: [] for t in targets}
    open_targets = set(range(len(targets)))
    for size in range(1, max_changes + 1):
        hits: dict = {i: [] for i in open_targets}
        for combo in itertools.combinations(candidates, size):
            for values in itertools.product(*(c[2] for c in combo)):
                budget -= 1
                if budget < 0:
                    break
                assignment = {c[0]: v for c, v in zip(combo, values)}
                got = outcome(exact.assign(question.facts, assignment))
                for i in open_targets:
                    if got is not UNSET and same(got, targets[i]):
                        hits[i].append([(c[0], c[1], v) for c, v in zip(combo, values)])
        for i, sets in hits.items():
            if sets:
                found[targets[i]] = _ranked(question, targets[i], sets)
        open_targets = {i for i in open_targets if not hits[i]}
        if not open_targets or budget < 0:
            break
    return found


def _ranked(question, target, sets) -> list[Alternative]:
    """The nearest value per fact set and direction, ranked: changeable facts first, then
    by how far the numbers move."""
    best: dict = {}
    for s in sets:
        key = tuple((p, _direction(value_of(question.facts, p), v)) for p, _, v in s)
        dist = sum(question.distance(p, f, v) for p, f, v in s)
        if key not in best or dist < best[key][0]:
            best[key] = (dist, s)
    ordered = sorted(best.values(), key=lambda d: (sum(not f.mutable for _, f, _ in d[1]), d[0], str(d[1])))
    return [Alternative(output=question.output, value=_plain(target), value_label=question.value_label(target),
                        changes=[question.change(p, f, v) for p, f, v in s]) for _, s in ordered]


def _direction(old, new) -> int:
    if isinstance(new, bool) or not isinstance(new, (int, Decimal, dt.date)) or old is None:
        return 0
    return 1 if new > old else -1


def _distance(new, old):
    """How far a number or date moves (0 for other kinds: they are not ordered)."""
    if old is None or isinstance(new, bool) or isinstance(old, bool):
        return 0
    if isinstance(new, dt.date) and isinstance(old, dt.date):
        return abs((new - old).days)
    if isinstance(new, (int, Decimal)) and isinstance(old, (int, Decimal)):
        return abs(Decimal(new) - Decimal(old))
    return 0


def same(a, b) -> bool:
    """Two values of an output are the same (``True`` is not ``1``)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _plain(value):
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    return value


def parse_value(checked, output: str, text):
    """A value of ``output`` as a person writes it: stored, a zh or en label, 是/否,
    yes/no, true/false, a number; E840 at ``<arguments>`` otherwise."""
    from ...dsl.errors import FupinError, Span, error

    rtype = checked.rules[output].type
    spelled = str(text).strip()
    if rtype.kind == "bool":
        found = _BOOLS.get(spelled.casefold()) if not isinstance(text, bool) else text
        choices = "true, false"
    elif rtype.kind == "enum":
        enum = checked.enums[rtype.name]
        spellings = enum.spellings()
        found = spellings.get(spelled, spellings.get(spelled.casefold()))
        choices = ", ".join(enum.values)
    else:
        try:
            found = Decimal(spelled.replace(",", "").removesuffix("元").strip())
            found = int(found) if rtype.kind == "integer" and found == found.to_integral_value() else found
        except ArithmeticError:
            found, choices = None, str(rtype)
    if found is None:
        raise FupinError(error("E840", Span("<arguments>", 0, 0), value=spelled, output=output, choices=choices))
    return found


_BOOLS = {"是": True, "否": False, "yes": True, "no": False, "true": True, "false": False}


def other_values(checked, output: str, current, possible=None) -> list:
    """The values a what-if asks for: every value of a bool or enum output but the
    current one (an unknown output: those still possible, else all); none for others."""
    values = exact.type_values(checked, checked.rules[output].type)
    if values is None:
        return []
    if current is None:
        return list(possible) if possible else list(values)
    return [v for v in values if not same(v, current)]
