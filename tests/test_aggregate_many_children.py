"""Aggregations over many children: the facts they wait on, and linear cost.

A county of 7,096 households used to take ~13 s against ~1.7 s for 3,000: every child
with an unknown value merged its facts into a growing frozen set (a copy per child).
"""
from __future__ import annotations

import datetime as dt
import time

import pytest


def _village(n: int, with_status: bool = False) -> dict:
    households = [{"id": f"h{i}", "members": [{"age": 30}]} for i in range(n)]
    if with_status:
        for h in households:
            h["status"] = "poor"
    return {"id": "V", "population": n, "households": households}


@pytest.mark.parametrize("n", [1, 2, 5])
def test_sum_waits_on_every_unknown_child(mini, n):
    result = mini.evaluate(_village(n), entity="village", only=["village_poor_people"])
    assert result["village_poor_people"] is None
    assert result.unknown["village_poor_people"] == sorted(f"households[{i}].status" for i in range(n))


def test_sum_decided_when_every_child_is_known(mini):
    result = mini.evaluate(_village(5, with_status=True), entity="village", only=["village_poor_people"])
    assert result["village_poor_people"] == 5


def _seconds(mini, n: int) -> float:
    facts = _village(n)
    program = mini.program()
    typed, _ = mini.facts_checker().validate(facts, "village")
    best = float("inf")
    for _ in range(5):  # this process's CPU time, the best of five: other processes' load does not count
        start = time.process_time()
        program.evaluate(typed, dt.date(2020, 6, 30), "village", outputs=["village_poor_people"])
        best = min(best, time.process_time() - start)
    return best


def test_aggregating_unknowns_is_linear(mini):
    small, large = _seconds(mini, 2_000), _seconds(mini, 8_000)
    # Linear work gives a ratio near 4; merging sets pairwise gave about 16.
    assert large / small < 8, (small, large)
