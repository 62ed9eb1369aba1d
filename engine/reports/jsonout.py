"""JSON output that keeps decimals exact: ``Decimal`` is written as its decimal text.

:class:`JsonText` marks text that is already JSON (``Result.to_json()``); ``dumps``
embeds it as the value it encodes, reading its numbers back as exact decimals.
"""
from __future__ import annotations

import json
from decimal import Decimal

_MARK = "\u0000dec:"


class JsonText(str):
    """A ``str`` holding JSON text; nested in data given to :func:`dumps`, it is
    embedded as the JSON value it encodes (not as a quoted string)."""

    def value(self):
        """The encoded value, numbers with a fraction as exact ``Decimal``."""
        return json.loads(self, parse_float=Decimal)


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
    if isinstance(value, JsonText):
        return _encode(value.value())
    if isinstance(value, Decimal):
        return _MARK + decimal_text(value)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return _encode(value.model_dump(mode="python", by_alias=True))
    return value


def decimal_text(value: Decimal) -> str:
    """A Decimal's exact text without trailing zeros (``4800.50`` → ``4800.5``), as JSON
    output writes it; batch CSV output writes the same text."""
    # Not normalize(): it rounds to the context's 28 digits; trim zeros from the text.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(value, indent: int | None = 2) -> str:
    """JSON text with Decimals written exactly as numbers (never via binary floats)."""
    return _unmark(json.dumps(_encode(value), ensure_ascii=False, indent=indent))


def _unmark(text: str) -> str:
    import re

    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text)
