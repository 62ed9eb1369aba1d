"""The semantic core both evaluators share: values, operators, table cells.

values.py (runtime values: Unknown, EvalError, money to the fen, ParamIssue),
operators.py (comparisons, arithmetic, unary operators, built-in functions: each a
Python meaning with, where numpy computes the same, its ufunc beside it) and cells.py
(what a decision-table cell and ``in`` test). The scalar evaluator (engine/scalar)
runs these meanings; the columnar one (engine/columnar) runs them over whole columns.
"""
