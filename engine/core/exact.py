"""Exact unknowns: decide an output when every completion of its missing facts agrees.

Three-valued evaluation (values.py) is sound but coarse: a table row whose unknown cell
cannot change the outcome, or two rows that give the same value on both sides of an
unknown threshold, still leave the output unknown. This module settles such an output
by cases. The facts an :class:`Unknown` names are given, in turn, every value that can
make a difference (:class:`Space`):

- a bool: ``false``, ``true``; an enum: each declared value;
- a number or a date that the policy only ever compares with constants (literals,
  parameters): each constant it is compared with, zero, and one unit either side
  (integer 1, money 0.01, date one day; decimals and ratios also the midpoints), kept
  within the field's declared ``min``/``max`` (the bounds included); between two such points every comparison
  the policy makes with it has the same outcome;
- a number or a date also compared with other facts of its entity instance: their
  values too (known ones as thresholds; a missing one settled together with it, both
  taking two points in every gap so that either order is tried; see ``Space._peered``);
- a number or a date used any other way (arithmetic, aggregation, ``year()``, compared
  with a computed value), and a blank number parameter, is not enumerated: the output
  stays unknown, since an outcome can change between any two points we would try. The
  facts that can be enumerated are still split on: where they settle the output the
  others never mattered.

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
BUDGET = 256  # completions evaluated per output at most; beyond it the output stays unknown (sound)

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
        self._direct: dict = {}  # output (None: every rule) -> (direct thresholds, peers)
        self._cache: dict = {}
        self._where: dict = {}  # (entity, fact, output) -> what _located finds: the same for every row

    def domain(self, entity: str, fact: str, output: str | None = None, known=None):
        """The candidate values of ``fact`` (a path as unknowns name it, relative to an
        ``entity`` instance) when settling ``output``, or None when it cannot be enumerated.

        Whether a number can be enumerated depends only on how the rules ``output`` uses
        (its dependency cone) read it: the income a monitoring tier only compares with the
        red line is enumerable there even if a subsidy elsewhere divides it by three.

        ``known(path)``: the value the entity has for another fact (None: missing). A
        number compared with other facts of its entity (``floor <= income < line``)
        takes their values as thresholds (see :meth:`_peered`)."""
        found = self._located(entity, fact, output)
        if found is None or found[2] is None:
            return None
        fld, prefix, direct, peers = found
        if peers:
            return self._peered(fld, prefix, output, known)
        key = (entity, fact, output)
        if key not in self._cache:
            self._cache[key] = self._values(fld.type, fld.min, fld.max, direct)
        return self._cache[key]

    def direct(self, output: str | None) -> dict:
        """``(entity, field) -> thresholds`` of the number and date fields that the rules
        ``output`` uses only compare with constants and with other facts of their entity
        (every rule when ``output`` is None)."""
        return self._uses(output)[0]

    def peers(self, output: str | None) -> dict:
        """``(entity, field) -> names`` of the other facts of its entity that a direct
        field is compared with in the rules ``output`` uses."""
        return self._uses(output)[1]

    def _uses(self, output):
        if output not in self._direct:
            rules = None if output is None else cone(self.checked, output)
            self._direct[output] = _direct_thresholds(self.checked, rules)
        return self._direct[output]

    def _located(self, entity, fact, output):
        """``(field, path prefix, direct thresholds or None, peer names)`` of a fact
        path (a blank parameter is a field of its own here); None when it is no scalar
        fact. Remembered: a batch asks it for every (row, output) settled."""
        key = (entity, fact, output)
        if key not in self._where:
            self._where[key] = self._locate(entity, fact, output)
        return self._where[key]

    def _locate(self, entity, fact, output):
        if fact.startswith("parameter:"):
            p = self.checked.params.get(fact[len("parameter:"):])
            return None if p is None else (_Param(p.type), "", () if p.type.kind not in _STEP else None, ())
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
        if fld.type.kind not in _STEP:
            return fld, "", (), ()
        direct = self.direct(output).get((ent.name, name))
        return fld, fact[:len(fact) - len(name)], direct, self.peers(output).get((ent.name, name), ())

    def _peered(self, fld, prefix, output, known):
        """The candidate values of a number or date compared with other facts of its entity.

        A known peer is a threshold like a constant. A missing peer is settled together
        with the fact: both take the same points, made over every threshold either has,
        with two values in each gap between neighbouring thresholds and two beyond each
        end, so that both orders of the two (and equality) are tried within every gap.
        Three or more missing together, or a missing peer used some other way, and the
        fact is not enumerated (the output stays unknown: sound)."""
        kind, direct, peers, ent = fld.type.kind, self.direct(output), self.peers(output), fld.entity
        group, todo, points = {fld.name}, [fld.name], set()
        while todo:
            name = todo.pop()
            own = direct.get((ent, name))
            if own is None:
                return None
            points.update(own)
            f = self.checked.entities[ent].fields[name]
            points.update(b for b in (f.min, f.max) if b is not None)
            for peer in peers.get((ent, name), ()):
                value = known(prefix + peer) if known is not None else None
                if value is not None:
                    points.add(value)
                elif peer not in group:
                    group.add(peer)
                    todo.append(peer)
        if len(group) > 2:
            return None
        points.add(_ZERO[kind])
        pts = _around(kind, points) if len(group) == 1 else _two_per_gap(kind, points)
        return tuple(v for v in pts if (fld.min is None or v >= fld.min) and (fld.max is None or v <= fld.max))

    def _values(self, ftype, lo, hi, direct=None):
        """``direct``: the thresholds a number or date field is only ever compared with.

        None means it is used otherwise too (in arithmetic, an aggregation, ``year()``,
        against another fact or a computed value, or it is a blank parameter): then an
        outcome can change between two thresholds (``income / 3 > 2000 且 income / 3 <
        2010`` holds only for incomes in (6000, 6030), where no threshold lies), so the
        fact is not enumerated and the output stays unknown: never decided unsoundly."""
        kind = ftype.kind
        if kind == "bool":
            return (False, True)
        if kind == "enum":
            return tuple(self.checked.enums[ftype.name].values)
        if kind not in _STEP or direct is None:
            return None
        # the declared bounds are points too: with min 10 and a rule `x >= 5`, every
        # threshold lies outside [10, …) and the bound alone stands for the values within
        pts = _around(kind, [*direct, _ZERO[kind], *(b for b in (lo, hi) if b is not None)])
        return tuple(v for v in pts if (lo is None or v >= lo) and (hi is None or v <= hi))


def _around(kind: str, values) -> tuple:
    """Each value of a kind and one unit either side, sorted. Decimals and ratios are
    finer than the unit (a ratio fact may be 0.035), so between two neighbouring points
    their midpoint stands for the values strictly between (``r > 0.03 且 r < 0.04``)."""
    step = _STEP[kind]
    out = set()
    for v in values:
        if kind == "integer" and not isinstance(v, int):
            if v != v.to_integral_value():
                out |= {int(v // 1), int(v // 1) + 1}
                continue
            v = int(v)
        out |= {v - step, v, v + step}
    points = sorted(out)
    if kind in ("decimal", "ratio"):
        points = sorted({*points, *((a + b) / 2 for a, b in zip(points, points[1:]))})
    return tuple(points)


class _Param:
    """A blank parameter seen as a field: a type and no bounds."""

    min = max = None

    def __init__(self, ptype):
        self.type = ptype


def _two_per_gap(kind: str, values) -> tuple:
    """Thresholds with two values in each gap between neighbours (where the gap has
    them) and two beyond each end: two facts compared with each other can then be
    tried in either order, and equal, anywhere relative to the thresholds."""
    step = _STEP[kind]
    cut = sorted(set(_whole(kind, values)))
    out = {*cut, cut[0] - step, cut[0] - 2 * step, cut[-1] + step, cut[-1] + 2 * step}
    for a, b in zip(cut, cut[1:]):
        if kind in ("decimal", "ratio"):
            out |= {a + (b - a) / 3, a + 2 * (b - a) / 3}
        else:
            out |= {v for v in (a + step, b - step) if a < v < b}
    return tuple(sorted(out))


def _whole(kind: str, values):
    """Thresholds of an integer fact as integers: a fractional one gives its two
    neighbours (``x > 2.5`` splits where ``x > 2`` and ``x >= 3`` do)."""
    for v in values:
        if kind == "integer" and not isinstance(v, int):
            if v != v.to_integral_value():
                yield int(v // 1)
                yield int(v // 1) + 1
                continue
            v = int(v)
        yield v


def cone(checked, output: str) -> set:
    """The rules ``output`` reads, itself included, through every rule reference."""
    seen, todo = set(), [output]
    while todo:
        name = todo.pop()
        if name in seen or name not in checked.rules:
            continue
        seen.add(name)
        todo += [n.name for n in _nodes(checked, [name]) if isinstance(n, t.TRule)]
    return seen


def _direct_thresholds(checked, rules: set | None = None) -> tuple[dict, dict]:
    """``(entity, field) -> thresholds`` for each number or date field whose every use is
    a comparison with constants (literals, parameters) or with another fact of its own
    entity instance (a *peer*): only those and one unit either side can change an
    outcome; and ``(entity, field) -> peer names``. A field used any other way is left
    out (it is not enumerated)."""
    found: dict = {}
    peers: dict = {}
    wide: set = set()
    seen: set = set()

    def compared(node, others):
        fld = _field(node)
        if fld is None:
            return
        seen.add(id(fld))
        key = (fld.entity, fld.name)
        found.setdefault(key, set())
        for other in others:
            peer = _field(other)
            # two fields of one entity in one comparison are of one instance: another
            # instance is reached only through ``household.x`` (TUp) or an aggregate
            if peer is not None and peer.entity == fld.entity:
                peers.setdefault(key, set()).add(peer.name)
                continue
            values = _constants(checked, other)
            if values is None:
                wide.add(key)
            else:
                found[key].update(values)

    for name, rule in checked.rules.items():
        if rule.table is not None and (rules is None or name in rules):
            for n, tin in enumerate(rule.table.inputs):
                ops = [o for row in rule.table.rows if tin.name in row.tests
                       for o in _cell_operands(row.tests[tin.name])]
                compared(tin.expr, ops)
    for node in _nodes(checked, rules):
        if isinstance(node, t.TCompare):
            for a, b in zip(node.operands, node.operands[1:]):
                compared(a, [b])
                compared(b, [a])
        elif isinstance(node, t.TIn):
            c = node.container
            compared(node.subject, list(c.items) if isinstance(c, t.TSet) else [c.lo, c.hi])
    for node in _nodes(checked, rules):
        if isinstance(node, t.TField) and id(node) not in seen:
            wide.add((node.entity, node.name))
    direct = {k: tuple(v) for k, v in found.items() if k not in wide}
    return direct, {k: tuple(sorted(v)) for k, v in peers.items() if k in direct}


def _field(node):
    """The field a node reads as it is (None for anything computed)."""
    return node if isinstance(node, t.TField) else None


def _cell_operands(test) -> list:
    from .cells import of_test, operands

    return operands(of_test(test))


def _constants(checked, node) -> list | None:
    """The values a constant operand can take (a literal; a parameter on any date), or
    None for a computed operand."""
    if isinstance(node, t.TLit):
        return [node.value] if node.value is not None and not isinstance(node.value, (bool, str)) else []
    if isinstance(node, t.TParam):
        p = checked.params[node.name]
        return [v for _, v in p.periods if isinstance(v, (int, Decimal, dt.date)) and not isinstance(v, bool)]
    if isinstance(node, t.TNeg) and isinstance(node.operand, t.TLit):
        return [-node.operand.value]
    return None


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


def _nodes(checked, rules=None):
    """Every typed node of every rule (of ``rules`` if given): expressions, table inputs,
    cells, exceptions."""
    for name, rule in checked.rules.items():
        if rules is not None and name not in rules:
            continue
        for root in rule.roots():
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


def read(facts: dict, path: str):
    """The value at ``path`` (``members[2].age``) of typed facts, or None when it or a
    list on the way is missing: the inverse of :func:`assign`."""
    *parents, name = path.split(".")
    node = facts
    for seg in parents:
        m = _SEGMENT.match(seg)
        kids = node.get(m.group(1)) if m else None
        if not isinstance(kids, list) or int(m.group(2)) >= len(kids):
            return None
        node = kids[int(m.group(2))]
    return node.get(name) if isinstance(node, dict) else None


def parameters(assignment: dict) -> dict:
    """The parameter values an assignment gives (``name -> value``)."""
    return {k[len("parameter:"):]: v for k, v in assignment.items() if k.startswith("parameter:")}


class Completions:
    """The completions of ``base`` over ``names`` (each taking the values of its domain),
    in ``itertools.product``'s order, each built when asked for: a search evaluates the
    first and the last first, and most searches end there (two answers), so building the
    up-to-``BUDGET`` others up front was 13 % of settling the pack's generated
    households (docs/performance.md). ``start``/``stop``: the indices this one holds."""

    __slots__ = ("base", "names", "domains", "start", "stop")

    def __init__(self, base: dict, names: list, domains: list, size: int, start: int = 0, stop: int | None = None):
        self.base, self.names, self.domains = base, names, domains
        self.start, self.stop = start, size if stop is None else stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(i)
        i += self.start
        combo = []
        for d in reversed(self.domains):  # the last domain varies fastest, as in itertools.product
            i, r = divmod(i, len(d))
            combo.append(d[r])
        return {**self.base, **dict(zip(self.names, reversed(combo)))}

    def __iter__(self):
        for combo in itertools.islice(itertools.product(*self.domains), self.start, self.stop):
            yield {**self.base, **dict(zip(self.names, combo))}

    def inner(self) -> "Completions":
        """The completions between the first and the last."""
        return Completions(self.base, self.names, self.domains, 0, self.start + 1, self.stop - 1)


class Search:
    """Settle one output by cases. ``pending`` lists the completions (``fact -> value``)
    to evaluate next; ``feed`` takes their outcomes (a value, an Unknown or an
    :class:`ErrorOutcome`), in the same order, and may list more. When ``pending`` is
    empty, ``decided`` tells whether every completion gave the same value (``value``)
    and ``possible`` lists the values they gave (None: not enumerable)."""

    def __init__(self, space: Space, entity: str, facts, budget: int = BUDGET, values: tuple | None = None,
                 output: str | None = None, known=None):
        """``values``: every value the output's type has (a bool or an enum), or None
        (any other type). The search stops early once the output is known to be
        undecided and nothing more can be learnt: two different answers for a number,
        every value of its type seen for a bool or an enum. ``known(path)``: the value
        of one of the entity's given facts (None: missing), for numbers compared with
        other facts (:meth:`Space.domain`)."""
        self.space, self.entity, self.budget, self.values = space, entity, budget, values
        self.output = output  # the rule settled: which of its facts can be enumerated
        self.known = known
        self.outcomes: list = []
        self.open = True  # False once some completion cannot be enumerated further
        self.queue = self._split({}, facts)  # a list of completions, or a Completions built as asked
        self.pending: list[dict] = []
        self._next(first=True)

    def _next(self, first=False) -> None:
        """Hand out the next completions: first the first and last one (most apart),
        then the rest."""
        queue = self.queue
        if first and len(queue) > 2:
            self.pending = [queue[0], queue[len(queue) - 1]]
            self.queue = queue.inner() if isinstance(queue, Completions) else queue[1:-1]
        else:
            self.pending, self.queue = list(queue), []

    def _split(self, base: dict, facts) -> list[dict]:
        """The completions of ``base`` over the facts of ``facts`` that can be enumerated.
        Those that cannot are left missing: a completion on which the output still waits
        for them ends the search undecided, but where the others settle it (a branch not
        taken, a row not reached) they never mattered."""
        def known(path):
            if path in base:
                return base[path]
            return self.known(path) if self.known is not None else None

        names, domains = [], []
        for f in sorted(f for f in facts if f not in base):
            d = self.space.domain(self.entity, f, self.output, known)
            if d is not None:
                names.append(f)
                domains.append(d)
        if not names:
            self.open = False
            return []
        size = 1
        for d in domains:
            size *= len(d)
        self.budget -= size
        if self.budget < 0:
            self.open = False
            return []
        return Completions(base, names, domains, size)

    def feed(self, outcomes: list) -> None:
        for completion, outcome in zip(self.pending, outcomes):
            facts = getattr(outcome, "facts", None)
            if facts is not None:  # still unknown: split on what it waits on now
                self.queue = [*self.queue, *self._split(completion, facts)]
                if not self.open:
                    break
            else:
                self.outcomes.append(outcome)
        if not self.open or self._settled_undecided():
            self.pending, self.queue = [], []
            return
        self._next()

    def _settled_undecided(self) -> bool:
        keys = {_key(o) for o in self.outcomes}
        if len(keys) < 2:
            return False
        if self.values is None:
            return True
        return {(_key(v)) for v in self.values} <= keys

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
        """The distinct values the completions gave, sorted (errors left out); None
        when not enumerable. Complete for a bool or an enum output (its search stops
        early only once every value of its type was seen), not for others."""
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


def type_values(checked, rtype) -> tuple | None:
    """Every value of a bool or enum type (None for other types): a search for an output
    of this type may stop once it has seen them all."""
    if rtype.kind == "bool":
        return (False, True)
    if rtype.kind == "enum":
        return tuple(checked.enums[rtype.name].values)
    return None
