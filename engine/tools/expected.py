"""What a YAML case expects, read as the policy reads facts, and each failure in both languages.

A case's expected value is read like a fact of the output's type: an enum value or any
of its labels (``红色``, ``red``), ``是``/``否`` for yes/no, money as ``3,000`` or ``0元``,
a date as ``YYYY-MM-DD``. A value the output can never take (``purple`` for a tier, ``abc``
for money) is its own failure, naming what the output can be, instead of a mismatch that
no evaluation could ever fix; an output name that does not exist gets a did-you-mean.

Failures are :class:`~fupin.dsl.errors.Bilingual`: the runner shows one language at a time,
and values as a person reads them (``红色 (red)``, ``否``, ``3,000 元``), never Python reprs.
"""
from __future__ import annotations

import difflib
from decimal import Decimal

from ...dsl.coerce import CoerceError, coerce
from ...dsl.errors import Bilingual
from ..facts.names import read_enum
from ..reports.explain import value_words

PLAIN_KINDS = ("bool", "integer", "decimal", "money", "ratio", "date", "string")


class Expected:
    """The outputs of one checked program: their types, labels and enum values."""

    def __init__(self, checked):
        self.checked = checked

    def guess(self, name: str) -> str | None:
        """The declared output closest to a name that does not exist."""
        found = difflib.get_close_matches(str(name), list(self.checked.rules), n=1)
        return found[0] if found else None

    def read(self, name: str, raw):
        """``(value, None)``: the expected value as the output's type; ``(None, problem)``
        when the output can never take it; ``(raw, None)`` for types read as written."""
        rule = self.checked.rules.get(name)
        if rule is None or raw is None:
            return raw, None
        typ = rule.type
        if typ.kind == "enum" and typ.name in self.checked.enums:
            enum = self.checked.enums[typ.name]
            value = read_enum(raw, enum.spellings()) if isinstance(raw, str) else raw
            if value in enum.values:
                return value, None
            choices = [self.text(name, v, "zh") for v in enum.values], [self.text(name, v, "en") for v in enum.values]
            return None, _never(name, raw, "、".join(choices[0]), ", ".join(choices[1]))
        if typ.kind in PLAIN_KINDS:
            try:
                return coerce(raw, typ), None
            except (CoerceError, ValueError) as exc:
                what = getattr(exc, "expected", None)
                what = what if isinstance(what, dict) else {"zh": str(typ), "en": str(typ)}
                return None, _never(name, raw, what["zh"], what["en"])
        return raw, None

    def text(self, name: str, value, lang: str) -> str:
        """``value`` of the output ``name`` as a person reads it; an enum value shows its
        label and, when they differ, the value itself (``红色 (red)``)."""
        rule = self.checked.rules.get(name)
        typ = rule.type if rule is not None else None
        if typ is not None and typ.kind == "enum" and typ.name in self.checked.enums and isinstance(value, str):
            labels = self.checked.enums[typ.name].values.get(value) or {}
            label = labels.get(lang) or labels.get("zh")
            return f"{label} ({value})" if label and label != value else value
        if isinstance(value, list):
            return "[" + ", ".join(self.text(name, v, lang) for v in value) + "]"
        if isinstance(value, str) and (typ is None or typ.kind == "string"):
            return f"`{value}`"
        return value_words(value, str(typ) if typ is not None else None, lang=lang)


def _never(name: str, raw, zh: str, en: str) -> Bilingual:
    shown = raw if not isinstance(raw, Decimal) else f"{raw:f}"
    return Bilingual(f"{name}：期望值 `{shown}` 不是这个输出可能的取值（应为 {zh}），这个用例永远不会通过",
                     f"{name}: the expected `{shown}` is not a value this output can take (expected {en}), "
                     f"so the case could never pass")
