"""Columnar evaluation: the compiled policy run over arrays of entities at once.

``Frame`` (frame.py) holds one entity level as typed numpy columns; ``ColumnarProgram``
(program.py) evaluates a checked policy over a frame with the same semantics as the
scalar evaluator. See docs/architecture.md.
"""
