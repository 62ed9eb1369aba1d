"""Result.to_dict() is data with exact Decimals; Result.to_json() is JSON text, exact."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from fupin.engine.reports.jsonout import JsonText, dumps
from fupin.engine.reports.result import OutputError, Result


def _result(**values) -> Result:
    return Result(id="H1", entity="household", on="2020-06-30", values=values)


@pytest.mark.parametrize("value, text", [
    (Decimal("1600.17"), "1600.17"),
    (Decimal("1600.170"), "1600.17"),
    (Decimal("0.8"), "0.8"),
    (Decimal("1E+3"), "1000"),
    (Decimal("-0.00"), "0"),
    (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),  # > 28 digits
    (3, "3"),
    (True, "true"),
    (None, "null"),
    ("red", '"red"'),
    (dt.date(2020, 6, 30), '"2020-06-30"'),
])
def test_to_json_is_text_with_exact_numbers(value, text):
    result = _result(x=value)
    out = result.to_json(indent=None)
    assert isinstance(out, str)
    assert out == '{"id": "H1", "results": {"x": ' + text + '}, "unknown": {}}'
    back = json.loads(out, parse_float=Decimal)["results"]["x"]
    assert back == (value.isoformat() if isinstance(value, dt.date) else value)


def test_to_dict_keeps_decimals_and_lists_errors():
    result = _result(a=Decimal("0.1"), b=None)
    result.unknown = {}
    result.errors = {"b": OutputError(code="E701", message="参数…", message_en="parameter…", location="p.yaml:1:1")}
    data = result.to_dict()
    assert data["results"] == {"a": Decimal("0.1"), "b": None}
    assert data["errors"] == {"b": {"code": "E701", "message": "参数…", "location": "p.yaml:1:1"}}
    assert json.loads(result.to_json())["errors"]["b"]["code"] == "E701"


def test_json_text_nests_as_the_object_it_encodes():
    # The CLI prints a list of results: each result's text is embedded, not quoted.
    texts = [_result(x=Decimal("0.10")).to_json(), _result(x=Decimal("2")).to_json()]
    assert all(isinstance(t, JsonText) for t in texts)
    out = dumps(texts, indent=None)
    assert out == ('[{"id": "H1", "results": {"x": 0.1}, "unknown": {}}, '
                   '{"id": "H1", "results": {"x": 2}, "unknown": {}}]')
