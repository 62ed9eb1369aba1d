"""Value types of the language and the rules for combining them.

Kinds: bool, integer, decimal, money (元), ratio, date, string, enum (with its name),
list (of a child entity), and ``any`` (an error already reported; silences cascades).
"""
from __future__ import annotations

from dataclasses import dataclass

NUMERIC = ("integer", "decimal", "money", "ratio")
PLAIN = ("integer", "decimal")
SCALAR_KINDS = ("bool", "integer", "decimal", "money", "ratio", "date", "string")


@dataclass(frozen=True)
class Type:
    """A value type; ``name`` is the enum's name, or the entity a list holds."""

    kind: str
    name: str | None = None

    def __str__(self) -> str:
        if self.kind == "enum":
            return self.name or "enum"
        if self.kind == "list":
            return f"list[{self.name}]"
        return {"money": "money(元)"}.get(self.kind, self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def ordered(self) -> bool:
        return self.kind in NUMERIC or self.kind == "date"


BOOL, INTEGER, DECIMAL, MONEY = Type("bool"), Type("integer"), Type("decimal"), Type("money")
RATIO, DATE, STRING, ANY = Type("ratio"), Type("date"), Type("string"), Type("any")


def parse_type(text: str, enums) -> Type | None:
    """A declared type name → Type, or None when unknown."""
    if text in SCALAR_KINDS:
        return Type(text)
    if text in enums:
        return Type("enum", text)
    return None


def arith(op: str, left: Type, right: Type) -> Type | None:
    """The type of ``left op right``, or None when the combination is meaningless."""
    if ANY in (left, right):
        return ANY
    a, b = left.kind, right.kind
    if a == "date" and b == "date" and op == "-":
        return INTEGER
    if not (left.numeric and right.numeric):
        return None
    if op in "+-":
        if a == b:
            return left
        if a in PLAIN and b in PLAIN:
            return DECIMAL
        if a in PLAIN:
            return right
        if b in PLAIN:
            return left
        return None  # money ± ratio
    if op == "*":
        if a in PLAIN and b in PLAIN:
            return DECIMAL if "decimal" in (a, b) else INTEGER
        if "money" in (a, b):
            other = b if a == "money" else a
            return MONEY if other != "money" else None
        if "ratio" in (a, b):
            return RATIO if (a in PLAIN or b in PLAIN or a == b) else None
        return None
    if op == "/":
        if a == "money":
            return RATIO if b == "money" else MONEY
        if b == "money":
            return None
        if a == "ratio" and b in PLAIN + ("ratio",):
            return RATIO if b != "ratio" else DECIMAL
        return DECIMAL
    return None


def comparable(left: Type, right: Type, op: str) -> bool:
    """Whether ``left op right`` is a meaningful comparison."""
    if ANY in (left, right):
        return True
    if left.numeric and right.numeric:
        pair = {left.kind, right.kind}
        return not ({"money", "ratio"} <= pair)
    if left != right:
        return False
    if op in ("==", "!="):
        return left.kind != "list"
    return left.ordered


def assignable(actual: Type, declared: Type) -> bool:
    """Whether a value of type ``actual`` may be the value of a rule declared ``declared``."""
    if ANY in (actual, declared) or actual == declared:
        return True
    if declared.kind == "decimal" and actual.kind == "integer":
        return True
    if declared.kind in ("money", "ratio") and actual.kind in PLAIN:
        return True
    return False
