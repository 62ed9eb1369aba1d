"""Exact unknowns: decide an output when every completion of its missing facts agrees.

Three-valued evaluation (values.py) is sound but coarse: a table row whose unknown cell
cannot change the outcome, or two rows that give the same value on both sides of an
unknown threshold, still leave the output unknown. This module settles such an output
by cases. The facts an :class:`Unknown` names are given, in turn, every value that can
make a difference (:class:`Space`):

- a bool: ``false``, ``true``; an enum: each declared value;
- a number or a date: every threshold the policy uses (its literals, the values of its
  parameters on any date, the fields' ``min``/``max``, zero; for dates also the first
  day of each year around them, where ``year()`` changes) and one unit either side
  (integer 1, money and other decimals 0.01, date one day), kept within the field's
  declared ``min``/``max``; between two such points every comparison with a threshold
  has the same outcome;
- a parameter the source leaves blank (``parameter:NAME``): the same, by its type.

The output is evaluated once per completion (:class:`Search`); a completion that is
still unknown on facts not yet given is split further on those. The output is decided
when every completion gives the same value; otherwise it stays unknown, naming the same
facts as before, and the values the completions gave are its *possible* values. A fact
that cannot be enumerated (text, a missing list of children, a parent evaluated without
its facts) or a search larger than :data:`BUDGET` completions leaves the output unknown
with no possible values (``None``: any value of its type). A completion that raises an
evaluation error counts as an answer of its own: the output is then not decided.

The search is the same for both evaluators: :class:`Search` hands out completions and
takes back their outcomes; the scalar program evaluates them one by one, the columnar
one as a frame per round.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

from ...dsl import typed as t

FINITE = ("bool", "enum")  # output kinds whose possible values are listed (numbers: any)
BUDGET = 2048  # completions evaluated per output at most; beyond it the output stays unknown

_STEP = {"integer": 1, "money": Decimal("0.01"), "decimal": Decimal("0.01"), "ratio": Decimal("0.01"),
         "date": dt.timedelta(days=1)}
_SEGMENT = re.compile(r"^(\w+)\[(\d+)\]$")


class ErrorOutcome:
    """A completion whose evaluation raised an error (by its code)."""

    __slots__ = ("code",)

    def __init__(self, code: str):
        self.code = code

    def __eq__(self, other):
        return isinstance(other, ErrorOutcome) and other.code == self.code

    def __hash__(self):
        return hash(("error", self.code))


class Space:
    """The values each missing fact of a checked policy is given when settling by cases."""

    def __init__(self, checked):
        self.checked = checked
        self.points = _thresholds(checked)
        self._cache: dict = {}

    def domain(self, entity: str, fact: str):
        """The candidate values of ``fact`` (a path as unknowns name it, relative to an
        ``entity`` instance), or None when it cannot be enumerated."""
        key = (entity, fact)
        if key not in self._cache:
            self._cache[key] = self._domain(entity, fact)
        return self._cache[key]

    def _domain(self, entity, fact):
        if fact.startswith("parameter:"):
            p = self.checked.params.get(fact[len("parameter:"):])
            return None if p is None else self._values(p.type, None, None)
        ent = self.checked.entities.get(entity)
        *parents, name = fact.split(".")
        for seg in parents:
            m = _SEGMENT.match(seg)
            fld = ent.fields.get(m.group(1)) if m and ent is not None else None
            if fld is None or not fld.child:
                return None  # a parent read without its facts, or not a path we know
            ent = self.checked.entities.get(fld.child)
        fld = ent.fields.get(name) if ent is not None else None
        if fld is None or fld.child:
            return None
        return self._values(fld.type, fld.min, fld.max)

    def _values(self, ftype, lo, hi):
        kind = ftype.kind
        if kind == "bool":
            return (False, True)
        if kind == "enum":
            return tuple(self.checked.enums[ftype.name].values)
        pts = self.points.get(kind)
        if pts is None:
            return None
        return tuple(v for v in pts if (lo is None or v >= lo) and (hi is None or v <= hi))


def _thresholds(checked) -> dict:
    """Every threshold of the policy by kind, with one unit either side, sorted."""
    found = {k: set() for k in _STEP}

    def add(kind, value):
        if kind not in _STEP or value is None or isinstance(value, bool):
            return
        if kind == "date":
            if not isinstance(value, dt.date):
                return
        elif not isinstance(value, (int, Decimal)):
            return
        step = _STEP[kind]
        value = value if kind in ("integer", "date") else Decimal(value)
        if kind == "integer" and not isinstance(value, int):
            return
        found[kind] |= {value - step, value, value + step}

    for p in checked.params.values():
        for _, value in p.periods:
            _add_number(add, p.type.kind, value)
    for ent in checked.entities.values():
        for fld in ent.fields.values():
            for bound in (fld.min, fld.max):
                _add_number(add, fld.type.kind, bound)
    for node in _nodes(checked):
        if isinstance(node, t.TLit):
            _add_number(add, node.type.kind, node.value)
    for kind, zero in _ZERO.items():
        add(kind, zero)  # every kind has a point and both its sides, even with no threshold
    for d in list(found["date"]):  # ``year(d)`` makes each new year a threshold too
        add("date", dt.date(d.year, 1, 1))
        add("date", dt.date(d.year + 1, 1, 1))
    return {k: tuple(sorted(v)) for k, v in found.items()}


_ZERO = {"integer": 0, "money": Decimal(0), "decimal": Decimal(0), "ratio": Decimal(0), "date": dt.date(2020, 6, 30)}


def _add_number(add, kind, value):
    """A threshold of one kind is a threshold for every number kind: rules compare
    integers with money and ratios with decimals."""
    if kind == "date":
        add("date", value)
    elif kind in ("integer", "money", "decimal", "ratio"):
        for k in ("money", "decimal", "ratio"):
            add(k, value)
        if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()):
            add("integer", int(value))


def _nodes(checked):
    """Every typed node of every rule (expressions, table inputs, cells, exceptions)."""
    for rule in checked.rules.values():
        roots = [rule.expr] if rule.expr is not None else []
        if rule.table is not None:
            roots += [i.expr for i in rule.table.inputs]
            for row in rule.table.rows:
                roots += [row.then, *row.tests.values()]
        for e in rule.exceptions:
            roots += [e.when, e.value]
        for root in roots:
            yield from t.walk(root)


def assign(facts: dict, assignment: dict) -> dict:
    """``facts`` with each ``path -> value`` of ``assignment`` set (copied along the
    path; the original is left as it is). Parameters are not facts and are skipped."""
    out = dict(facts)
    for path, value in assignment.items():
        if path.startswith("parameter:"):
            continue
        *parents, name = path.split(".")
        node = out
        for seg in parents:
            m = _SEGMENT.match(seg)
            field, index = m.group(1), int(m.group(2))
            kids = list(node[field])
            kids[index] = dict(kids[index])
            node[field] = kids
            node = kids[index]
        node[name] = value
    return out


def parameters(assignment: dict) -> dict:
    """The parameter values an assignment gives (``name -> value``)."""
    return {k[len("parameter:"):]: v for k, v in assignment.items() if k.startswith("parameter:")}


class Search:
    """Settle one output by cases. ``pending`` lists the completions (``fact -> value``)
    to evaluate next; ``feed`` takes their outcomes (a value, an Unknown or an
    :class:`ErrorOutcome`), in the same order, and may list more. When ``pending`` is
    empty, ``decided`` tells whether every completion gave the same value (``value``)
    and ``possible`` lists the values they gave (None: not enumerable)."""

    def __init__(self, space: Space, entity: str, facts, budget: int = BUDGET):
        self.space, self.entity, self.budget = space, entity, budget
        self.outcomes: list = []
        self.open = True  # False once some completion cannot be enumerated further
        self.pending: list[dict] = self._split({}, facts)

    def _split(self, base: dict, facts) -> list[dict]:
        names = sorted(f for f in facts if f not in base)
        domains = [self.space.domain(self.entity, f) for f in names]
        if not names or any(d is None for d in domains):
            self.open = False
            return []
        size = 1
        for d in domains:
            size *= len(d)
        self.budget -= size
        if self.budget < 0:
            self.open = False
            return []
        return [{**base, **dict(zip(names, combo))} for combo in itertools.product(*domains)]

    def feed(self, outcomes: list) -> None:
        more = []
        for completion, outcome in zip(self.pending, outcomes):
            facts = getattr(outcome, "facts", None)
            if facts is not None:  # still unknown: split on what it waits on now
                more += self._split(completion, facts)
                if not self.open:
                    more = []
                    break
            else:
                self.outcomes.append(outcome)
        self.pending = more

    @property
    def decided(self) -> bool:
        if not self.open or not self.outcomes or isinstance(self.outcomes[0], ErrorOutcome):
            return False
        first = _key(self.outcomes[0])
        return all(_key(o) == first for o in self.outcomes)

    @property
    def value(self):
        return self.outcomes[0]

    @property
    def possible(self) -> list | None:
        """The distinct values the completions gave, sorted (errors left out)."""
        if not self.open:
            return None
        seen, out = set(), []
        for o in self.outcomes:
            if isinstance(o, ErrorOutcome) or _key(o) in seen:
                continue
            seen.add(_key(o))
            out.append(o)
        return sorted(out, key=_order)


def _key(value):
    return tuple(value) if isinstance(value, list) else value


def _order(value):
    return (type(value).__name__, str(value) if isinstance(value, (list, str)) else value)


def run(search: Search, evaluate) -> Search:
    """Drive a search to its end with ``evaluate(completions) -> outcomes``."""
    while search.pending:
        search.feed(evaluate(search.pending))
    return search


def listed(checked, rtype, values: list | None) -> list | None:
    """The possible values of an output as results list them: for a bool or an enum
    output only (a number's possible values are any in a range), in declaration order
    (``false`` before ``true``); None otherwise."""
    if values is None or rtype.kind not in FINITE:
        return None
    order = (False, True) if rtype.kind == "bool" else tuple(checked.enums[rtype.name].values)
    return sorted(values, key=order.index)
