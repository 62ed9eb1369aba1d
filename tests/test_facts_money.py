"""Facts validation: money is exact to the fen, as the columnar evaluators store it."""
from __future__ import annotations

from decimal import Decimal

import pytest

from fupin import FupinError
from fupin.dsl.coerce import to_decimal
from fupin.engine.columnar.frame import encode_value


@pytest.mark.parametrize("raw, fen", [
    (4800, 480000),
    ("4800.5", 480050),
    ("4800.50", 480050),
    ("4800.500", 480050),   # trailing zeros are still to the fen
    (4800.25, 480025),
    ("0.01", 1),
    ("1.2万", 1200000),
    ("4800.005", None),
    (4800.005, None),
    ("0.001", None),
    (Decimal("-3.141"), None),
    ("1.00001万", 1000010),  # 10000.1 元
    ("1.000001万", 1000001),  # 10000.01 元
    ("1.0000001万", None),    # 10000.001 元
])
def test_money_below_the_fen_is_invalid_on_every_path(mini, raw, fen):
    facts = {"id": "H", "status": "exited", "income_per_capita": raw}
    typed, diags = mini.facts_checker().validate(facts, "household")
    if fen is None:
        assert typed is None
        assert [d.code for d in diags] == ["E802"]
        assert "money to the fen (at most two decimals)" in diags[0].message("en")
        assert "精确到分的金额（至多两位小数）" in diags[0].message("zh")
        assert "income_per_capita" in diags[0].message("en")
        with pytest.raises(ValueError):
            encode_value(to_decimal(raw), "money")
    else:
        assert diags == []
        assert encode_value(typed["income_per_capita"], "money") == fen


def test_money_below_the_fen_raises_from_the_api(mini):
    with pytest.raises(FupinError) as caught:
        mini.evaluate({"id": "H", "status": "exited", "income_per_capita": "4800.005"})
    assert caught.value.code == "E802"


@pytest.mark.parametrize("raw", [Decimal("0.5e-1606272"), Decimal("1e-9999999"), Decimal("5E-1000000"),
                                 Decimal("1e-400"), Decimal("1E-21")])
def test_money_with_a_vanishing_exponent_is_beyond_the_bounds(mini, raw):
    """A money amount the Decimal context would round to a whole 0 fen (``scaleb`` underflows
    below 1E-999999) is judged by its digits: beyond MAX_DECIMALS places, E820 — as the slow
    path and the batch say — never a valid amount (it passed the fast reader, and a batch
    stopped with "internal: row 1 rejected without a reason")."""
    typed, diags = mini.facts_checker().validate({"id": "H", "status": "exited", "income_per_capita": raw},
                                                 "household")
    assert typed is None and [d.code for d in diags] == ["E820"]
    assert "at most 20 decimals" in diags[0].message("en")
