"""Facts validation's fast readers (engine/facts/validate.py ``fast_reader``) type a
plain valid value exactly as ``check_value`` does, and hand everything else to it: the
typed facts and every diagnostic of ``validate`` are the same with and without them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from fupin import load_policy
from fupin.engine.facts import validate as fv
from fupin.engine.facts.validate import FactsChecker

ROOT = Path(__file__).resolve().parent.parent
POLICY = load_policy(ROOT / "policy")
CHECKED = POLICY.program().checked


class Slow(FactsChecker):
    """The reference: no fast reader, every value through check_value."""

    def _plan(self, entity):
        fast, required, label = super()._plan(entity)
        plan = self._plans[entity] = ({}, required, label)
        return plan


ENUM_TEXTS = sorted({v for e in CHECKED.enums.values() for v in e.values}
                    | {lab.zh for e in CHECKED.enums.values() for lab in e.values.values() if lab})
VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10 ** 16, 10 ** 16), st.sampled_from([0, 1, -1, 4, 5, 100, 10 ** 15]),
    st.decimals(allow_nan=True, allow_infinity=True, places=3), st.floats(allow_nan=True),
    st.sampled_from(ENUM_TEXTS), st.text(max_size=6), st.sampled_from(["是", "否", " true", "4,999", "6万", "3%"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)), st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))


def _same(entity: str, raw) -> None:
    fast, slow = FactsChecker(CHECKED), Slow(CHECKED)
    a, da = fast.validate(raw, entity, allow_unknown=True)
    b, db = slow.validate(raw, entity, allow_unknown=True)
    assert a == b and [type(v) for v in (a or {}).values()] == [type(v) for v in (b or {}).values()]
    assert [d.render("en") for d in da] == [d.render("en") for d in db]


@pytest.mark.parametrize("entity", sorted(CHECKED.entities))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_and_slow_validation_agree_on_any_values(entity, data):
    """Every declared field of the entity (and a member row) with arbitrary values."""
    ent = CHECKED.entities[entity]
    raw = {name: data.draw(VALUE, label=name) for name, f in ent.fields.items() if not f.child}
    for name, f in ent.fields.items():
        if f.child:
            kid = CHECKED.entities[f.child]
            raw[name] = [{n: data.draw(VALUE, label=f"{name}.{n}") for n, g in kid.fields.items() if not g.child}]
    _same(entity, raw)


@pytest.mark.parametrize("kind, value, want", [
    ("integer", 5, 5), ("integer", True, fv._SLOW), ("integer", 10 ** 15 + 1, fv._SLOW), ("integer", 5.0, fv._SLOW),
    ("money", 4999, Decimal(4999)), ("money", Decimal("4999.50"), Decimal("4999.50")), ("money", "4999", fv._SLOW),
    ("money", Decimal("0.001"), fv._SLOW), ("money", Decimal("NaN"), fv._SLOW), ("money", Decimal("1E+16"), fv._SLOW),
    ("money", Decimal("-0"), Decimal("-0")), ("money", Decimal("5E+2"), Decimal("5E+2")),
    ("bool", True, True), ("bool", "是", fv._SLOW), ("bool", 1, fv._SLOW),
    ("date", dt.date(2020, 1, 1), dt.date(2020, 1, 1)), ("date", dt.datetime(2020, 1, 1), fv._SLOW),
    ("string", "x", "x"), ("string", 5, fv._SLOW),
])
def test_a_fast_reader_takes_only_plain_values(kind, value, want):
    from fupin.dsl.types import Type

    class F:
        type, min, max, child = Type(kind), None, None, None
    got = fv.fast_reader(F)(value)
    assert got == want and type(got) is type(want)


def test_bounds_of_a_field_are_the_fast_readers_too():
    """A value outside a field's declared bounds goes to check_value (E803)."""
    ent = CHECKED.entities["household"]
    bounded = [n for n, f in ent.fields.items() if f.type.kind in ("integer", "money") and f.min is not None]
    assert bounded
    for name in bounded:
        fld = ent.fields[name]
        assert fv.fast_reader(fld)(int(fld.min) - 1) is fv._SLOW


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=facts(CHECKED, "household"))
def test_fast_and_slow_validation_agree_on_valid_households(raw):
    """Valid households (tests/factsgen.py): the typed facts themselves compared."""
    fast, _ = FactsChecker(CHECKED).validate(raw, "household")
    assert fast is not None and fast == Slow(CHECKED).validate(raw, "household")[0]


def test_generated_households_type_alike():
    """The households `fupin generate` writes, through both: equal, type by type."""
    from fupin.engine.tools.generate import generate_households, records

    for raw in records(generate_households(200, 3, fields="pack")):
        a, b = FactsChecker(CHECKED).validate(raw, "household")[0], Slow(CHECKED).validate(raw, "household")[0]
        assert a == b and repr(a) == repr(b)
