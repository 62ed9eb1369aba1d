"""JSON output that keeps decimals exact: ``Decimal`` is written as its decimal text."""
from __future__ import annotations

import json
from decimal import Decimal

_MARK = "\u0000dec:"


def plain_json(value):
    """Recursively prepare values (dates → ISO text); Decimals stay Decimals."""
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _encode(value):
    if isinstance(value, Decimal):
        return _MARK + _decimal_text(value)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return _encode(value.model_dump(mode="python", by_alias=True))
    return value


def _decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value() and abs(value) < Decimal("1e18"):
        return str(int(value))
    text = format(value.normalize(), "f")
    return text


def dumps(value, indent: int | None = 2) -> str:
    """JSON text with Decimals written exactly as numbers (never via binary floats)."""
    return _unmark(json.dumps(_encode(value), ensure_ascii=False, indent=indent))


def _unmark(text: str) -> str:
    import re

    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text)
