"""Validate and type the facts of one entity (and its children) against the policy.

Every problem names the entity id, the field path and what was expected, located in
the facts file when positions are known. Money is exact to the fen: an amount with
more than two decimals (``4800.005``) is a wrong value (E802), never rounded. An
undeclared field is an error (E815, with a did-you-mean) unless unknown fields are
allowed (then a warning, W906, and ignored); facts that look like another entity's are
one error (E817, :mod:`.names`). An enum value may be written as a label (``已脱贫``)
and is read as its value. A missing required field, a wrong type or an out-of-range
value make the entity invalid: it is reported, not evaluated, and the other entities go on.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ...dsl.coerce import MAX_MAGNITUDE, CoerceError, coerce, decimals
from ...dsl.errors import Bilingual, Span, error
from .names import entity_label, looks_like, read_enum, undeclared, wrong_entity

DEFAULT_MAX_CHILDREN = 10_000  # children a list field may hold when it declares no ``max``
MONEY_TO_THE_FEN = {"zh": "精确到分的金额（至多两位小数）", "en": "money to the fen (at most two decimals)"}


class FactsChecker:
    """Checks entity facts for one checked policy.

    :meth:`validate` checks a whole entity record (with its children); :meth:`check_value`
    one value of one field. Both are the reference the batch validator decides like.
    """

    def __init__(self, checked):
        self.checked = checked
        self._spellings: dict = {}
        self._plans: dict = {}  # entity -> (fast readers by field, required fields, label)
        self._names: dict = {}  # entity -> its declared names (_declared)

    def validate(self, raw, entity: str, where=None, base: tuple = (),
                 allow_unknown: bool = False) -> tuple[dict | None, list]:
        """Typed facts (None if invalid) and the diagnostics found.

        An undeclared field is an error (E815) unless ``allow_unknown`` (then W906).
        """
        diags: list = []
        ent = self.checked.entities[entity]
        ident = raw.get(ent.key) if isinstance(raw, dict) else None
        if isinstance(raw, dict) and not raw.keys() <= self._declared(entity):
            other = looks_like(self.checked, entity, list(raw))
            if other is not None:
                label = entity_label(ent, entity)
                return None, [wrong_entity(self._span(where, base), ent, ident, label, *other)]
        unknown = "W906" if allow_unknown else "E815"
        out = self._entity(raw, entity, "", ident, where, base, diags, unknown)
        ok = not any(d.severity == "error" for d in diags)
        return (out if ok else None), diags

    def _declared(self, entity: str) -> frozenset:
        """Names that cannot make facts look like another entity's: the entity's fields,
        key and parent keys (:func:`looks_like` names no other entity for these), made once."""
        names = self._names.get(entity)
        if names is None:
            ent = self.checked.entities[entity]
            names = self._names[entity] = frozenset((*ent.fields, ent.key, *self.checked.parent_keys(entity)))
        return names

    def _span(self, where, path: tuple) -> Span:
        if where is None:
            return Span("<facts>", 0, 0)
        return where(path)

    def _key_span(self, where, path: tuple) -> Span:
        """Where a key is written (its value's place for a locator that knows only values)."""
        key = getattr(where, "key", None)
        return key(path) if key is not None else self._span(where, path)

    def _entity(self, raw, entity, prefix, ident, where, path, diags, unknown="W906"):
        ent = self.checked.entities[entity]
        fast, required, label = self._plans.get(entity) or self._plan(entity)
        if not isinstance(raw, dict):
            diags.append(error("E802", self._span(where, path), entity=label, id=ident, path=prefix.rstrip(".") or entity,
                               expected=Bilingual("对象（键: 值）", "object"), value=_short(raw)))
            return None
        out = {}
        for name, value in raw.items():
            if value is None:
                if name in ent.fields:
                    continue
            else:
                read = fast.get(name)
                if read is not None:  # a plain valid value: typed as check_value would type it
                    typed = read(value)
                    if typed is not _SLOW:
                        out[name] = typed
                        continue
            fld = ent.fields.get(name)
            if fld is None:
                if name not in self.checked.parent_keys(ent.name):  # where the row belongs (flat files): not a fact
                    diags.append(undeclared(unknown, self._key_span(where, path + (name,)), ent, name,
                                            prefix + str(name), ident, label))
                continue
            typed = self.check_value(fld, value, path=prefix + name, diags=diags, ident=ident, label=label,
                                     where=where, at=path + (name,), unknown=unknown)
            if typed is not None:
                out[name] = typed
        for name in required:
            if raw.get(name) is None:
                diags.append(error("E801", self._span(where, path), entity=label, id=ident, path=prefix + name))
        return out

    def _plan(self, entity: str) -> tuple:
        """The entity's fast readers (field -> reader, :func:`fast_reader`), its required
        fields and its label, made once."""
        ent = self.checked.entities[entity]
        fast = {}
        for name, fld in ent.fields.items():
            enum = self.checked.enums.get(fld.type.name) if fld.type.kind == "enum" else None
            read = None if fld.child else fast_reader(fld, frozenset(enum.values) if enum is not None else None)
            if read is not None:
                fast[name] = read
        plan = self._plans[entity] = (fast, tuple(n for n, f in ent.fields.items() if f.required),
                                      entity_label(ent, entity))
        return plan

    def check_value(self, fld, value, *, path: str, diags: list, ident=None, label: str = "", where=None,
                    at: tuple = (), unknown: str = "W906"):
        """One non-null value of a declared field, typed; None (and diagnostics) if invalid.

        ``fld`` is the checked field (``CField``); ``path`` the field's path as messages
        spell it (``members[1].age``); ``diags`` receives what is wrong. ``ident`` and
        ``label`` name the entity in messages; ``where`` maps ``at`` (the key path in the
        facts document) to a span; ``unknown`` is the code of an undeclared field of a
        child (E815 or W906). Batch validation calls this for the cells its column paths
        do not decide, so both paths decide every value alike.
        """
        if fld.child:
            return self._children(fld, value, path, ident, label, where, at, diags, unknown)
        enum = self.checked.enums.get(fld.type.name) if fld.type.kind == "enum" else None
        if enum is not None:
            value = read_enum(value, self.spellings(enum))
        try:
            typed = coerce(value, fld.type, tuple(enum.values) if enum else ())
        except CoerceError as exc:
            diags.append(error(exc.code, self._span(where, at), entity=label, id=ident, path=path,
                               expected=exc.expected, value=_short(value)))
            return None
        if fld.type.kind == "money" and not _to_the_fen(typed):
            diags.append(error("E802", self._span(where, at), entity=label, id=ident, path=path,
                               expected=MONEY_TO_THE_FEN, value=_short(value)))
            return None
        for bound, bad in ((fld.min, lambda v, b: v < b), (fld.max, lambda v, b: v > b)):
            if bound is not None and bad(typed, bound):
                diags.append(error("E803", self._span(where, at), entity=label, id=ident, path=path, value=_short(value),
                                   detail={"zh": f"超出范围 [{_show(fld.min, '-∞')}, {_show(fld.max, '∞')}]",
                                           "en": f"is outside [{_show(fld.min, '-∞')}, {_show(fld.max, '∞')}]"}))
                return None
        return typed

    def spellings(self, enum) -> dict:
        """The accepted spellings of an enum's values (cached): see ``CEnum.spellings``."""
        if enum.name not in self._spellings:
            self._spellings[enum.name] = enum.spellings()
        return self._spellings[enum.name]

    def _children(self, fld, value, fpath, ident, label, where, path, diags, unknown):
        if not isinstance(value, list):
            diags.append(error("E802", self._span(where, path), entity=label, id=ident, path=fpath,
                               expected=Bilingual(f"{fld.child} 的列表", f"list of {fld.child}"), value=_short(value)))
            return None
        limit = max_children(fld)
        if len(value) > limit:
            diags.append(error("E810", self._span(where, path), detail=f"{fpath}: {len(value)} > {limit}"))
            return None
        return [self._entity(item, fld.child, f"{fpath}[{i}].", ident, where, path + (i,), diags, unknown)
                for i, item in enumerate(value)]


_SLOW = object()  # a fast reader's answer: not a plain valid value, check_value decides


def fast_reader(fld, enum_values: frozenset | None = None):
    """A reader of the plain valid values of a scalar field — a bool, an int within the
    bounds, an enum value as stored, a date, a text — giving exactly what
    :meth:`FactsChecker.check_value` gives them, and ``_SLOW`` for anything else (a text
    to parse, a label, a float, a value out of bounds), which check_value then decides
    and reports. Most facts of a JSON body or a YAML file are plain, and check_value's
    general path costs ~3 µs each. tests/test_facts_fast.py holds the two equal."""
    kind = fld.type.kind
    if kind not in ("integer", "money", "decimal", "ratio") and (fld.min is not None or fld.max is not None):
        return None  # bounds on a date or a text: check_value alone
    if kind == "bool":
        return lambda v: v if type(v) is bool else _SLOW
    if kind == "string":
        return lambda v: v if type(v) is str else _SLOW
    if kind == "date":
        return lambda v: v if type(v) is dt.date else _SLOW
    if kind == "enum":
        values = enum_values or frozenset()
        return lambda v: v if type(v) is str and v in values else _SLOW
    if kind not in ("integer", "money", "decimal", "ratio"):
        return None
    low = max(-MAX_MAGNITUDE, fld.min) if fld.min is not None else -MAX_MAGNITUDE
    high = min(MAX_MAGNITUDE, fld.max) if fld.max is not None else MAX_MAGNITUDE
    if kind == "integer":
        return lambda v: v if type(v) is int and low <= v <= high else _SLOW
    if kind == "money":
        def money(v):
            if type(v) is int:
                return Decimal(v) if low <= v <= high else _SLOW  # an int is whole fen
            if type(v) is Decimal and v.is_finite() and low <= v <= high and _to_the_fen(v):
                return v  # to the fen: at most two decimals, within MAX_DECIMALS
            return _SLOW
        return money
    return lambda v: Decimal(v) if type(v) is int and low <= v <= high else _SLOW


def max_children(fld) -> int:
    """The most children a list field may hold: its declared ``max``, else the default."""
    return DEFAULT_MAX_CHILDREN if fld.max is None else fld.max


def _to_the_fen(amount) -> bool:
    """Whether a money amount is a whole number of fen (0.01 元).

    The batch and columnar evaluators keep money as integer fen; an amount below the
    fen is invalid here too, so that every path decides alike. Read from the digits, not
    computed: ``scaleb`` rounds in the Decimal context, and an amount like ``5E-1606273``
    (a JSON number) underflowed to a whole 0 fen and passed.
    """
    return amount.as_tuple().exponent >= -2 or decimals(amount) <= 2


def _short(value) -> str:
    """A value as a message shows it: text as written, a decimal as its digits (a body
    read with exact decimals gives ``1E+300``, not ``Decimal('1E+300')``), else its repr."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _show(value, none: str) -> str:
    return none if value is None else str(value)
