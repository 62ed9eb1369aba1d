"""Arithmetic bounds: what the checker can prove about a number's size before running.

Every number fupin evaluates stays within ``|x| ≤ 10^15`` with at most 20 decimals
(dsl/coerce.py); beyond that the evaluators stop with E720. The checker reports, ahead
of any evaluation, the arithmetic that is sure or able to go beyond the bound from what
is declared: constants and parameters multiplied together (``x * 9999999999 * 9999999``),
and expressions whose every operand has a declared range (a field's ``min``/``max``, a
parameter's values) with a largest possible result beyond the bound (E703). ``round``'s
places must be a literal from 0 to 20 (E208). Operands with no declared range are left
to the evaluators, which report E720 at the place of the overflow.
"""
from __future__ import annotations

from decimal import Decimal

from .. import typed as t
from ..errors import error

LIMIT = Decimal(10) ** 15
MAX_PLACES = 20
_UNBOUNDED = None


def check_bounds(crule, fields, params, diags: list) -> None:
    """Report E703/E208 in one checked rule (every expression of it)."""
    seen: set = set()
    for root in crule.roots():
        if root is None:
            continue  # a table input that did not parse (reported by CheckRules)
        for node in t.walk(root):
            if isinstance(node, t.TCall) and node.fn == "round":
                _places(node, diags)
            if not isinstance(node, t.TArith) or id(node) in seen:
                continue
            seen.add(id(node))
            sure = _constant_product(node, params)
            size = _size(node, fields, params)
            worst = sure if sure is not None and (size is None or sure > size) else size
            if worst is not None and worst > LIMIT:
                diags.append(error("E703", node.span, max(len(node.text.splitlines()[0]) if node.text else 1, 1),
                                   text=node.text.replace("\n", " "), bound=_show(worst)))
                for inner in t.walk(node):
                    seen.add(id(inner))  # the outermost overflowing expression, once


def _places(node, diags: list) -> None:
    if len(node.args) < 2:
        return
    places = node.args[1]
    value = places.value if isinstance(places, t.TLit) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PLACES:
        return
    if value is None and not isinstance(places, t.TLit):
        return  # not a literal: the resolver reported it (E401)
    diags.append(error("E208", places.span, max(len(places.text), 1), value=places.text, limit=MAX_PLACES))


def _constant_product(node, params):
    """The size of the product of the constant factors of a ``*`` chain (literals and
    parameters): beyond the bound whatever the facts are, unless a fact is tiny."""
    if "*" not in node.ops or any(op in "+-/" for op in node.ops):
        return None
    product, found = Decimal(1), 0
    for operand in node.operands:
        size = _size(operand, {}, params) if isinstance(operand, (t.TLit, t.TParam, t.TNeg)) else None
        if size is not None and size >= 1:
            product *= size
            found += 1
    return product if found >= 2 else None


def _size(node, fields, params):
    """The largest ``|x|`` the node can take, from declared ranges; None when unbounded."""
    if isinstance(node, t.TLit):
        return _abs(node.value)
    if isinstance(node, t.TParam):
        return _param_size(params.get(node.name))
    if isinstance(node, t.TField):
        return _field_size(fields.get(node.entity, {}).get(node.name))
    if isinstance(node, t.TUp):
        return _size(node.target, fields, params)
    if isinstance(node, t.TNeg):
        return _size(node.operand, fields, params)
    if isinstance(node, t.TArith):
        return _arith_size(node, fields, params)
    if isinstance(node, t.TIf):
        return _largest([_size(node.then, fields, params), _size(node.else_, fields, params)])
    if isinstance(node, t.TCall) and node.fn in ("min", "max"):
        return _largest([_size(a, fields, params) for a in node.args])
    if isinstance(node, t.TCall) and node.fn in ("abs", "round", "floor", "ceil"):
        inner = _size(node.args[0], fields, params)
        return None if inner is None else inner + 1
    return _UNBOUNDED


def _arith_size(node, fields, params):
    total = _size(node.operands[0], fields, params)
    for op, operand in zip(node.ops, node.operands[1:]):
        right = _size(operand, fields, params)
        if total is None or right is None or op == "/":
            return _UNBOUNDED
        total = total + right if op in "+-" else total * right
    return total


def _largest(sizes):
    return None if any(s is None for s in sizes) or not sizes else max(sizes)


def _abs(value):
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return _UNBOUNDED
    if isinstance(value, Decimal) and not value.is_finite():
        return _UNBOUNDED
    return abs(Decimal(value))


def _param_size(param):
    if param is None:
        return _UNBOUNDED
    sizes = [_abs(value) for _, value in param.periods]
    return _largest(sizes) if sizes else _UNBOUNDED


def _field_size(field):
    if field is None or field.min is None or field.max is None:
        return _UNBOUNDED
    return _largest([_abs(field.min), _abs(field.max)])


def _show(size: Decimal) -> str:
    return f"{size:.3E}" if size > LIMIT * 1000 else f"{size:,}"


__all__ = ["check_bounds", "LIMIT", "MAX_PLACES"]
