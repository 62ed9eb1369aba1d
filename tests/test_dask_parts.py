"""How `fupin batch --engine dask` cuts a Parquet file into partitions (distributed.py).

By default the row groups are cut for the cluster's task slots (``balanced_cut``): the
cut whose tasks, handed out in order to the first free slot, finish soonest and are the
most even, near the partition size asked for. Whatever the sizes, the partitions are
runs of whole row groups, in order, covering every group once (hypothesis), so the
results and quarantine row numbers are the local run's (tests/test_dask.py)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from fupin.engine.batch.distributed import balanced_cut, balanced_parts, parquet_parts


def _groups(runs) -> list:
    return [tuple(r) for r in runs]


@pytest.mark.parametrize("sizes, slots, rows, expected", [
    # 10 groups of 100,000 on 2 workers: 10 partitions, 5 each (at least 131,072 rows a
    # partition would make 5 of 200,000: 3 for one worker, 2 for the other)
    ([100_000] * 10, 2, 131_072, [(i,) for i in range(10)]),
    # groups of 65,536 (the last one short): one each, 8 a worker (cut at the boundaries
    # nearest 1/8, 2/8, … of the rows, 8 partitions would end with one of 148,032 rows)
    ([65_536] * 15 + [16_960], 2, 131_072, [(i,) for i in range(16)]),
    # 5 groups over 2 workers cannot be even: 5 partitions (3 + 2 groups) finish as soon as any cut
    ([100] * 5, 2, 100, [(0,), (1,), (2,), (3,), (4,)]),
    # one worker: the count nearest the size asked for
    ([100] * 8, 1, 200, [(0, 1), (2, 3), (4, 5), (6, 7)]),
    # a group without rows goes with a neighbour; only empty groups: one partition
    ([100, 0, 100, 0], 2, 50, [(0,), (1, 2, 3)]),
    ([0, 0], 2, 10, [(0, 1)]),
    ([], 2, 10, []),
    # more workers than groups: one group each
    ([100, 100, 100], 4, 1_000, [(0,), (1,), (2,)]),
])
def test_balanced_cut(sizes, slots, rows, expected):
    assert _groups(balanced_cut(sizes, slots, rows)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1_000), max_size=40), st.integers(1, 6), st.integers(1, 3_000))
def test_a_cut_is_every_group_once_in_order(sizes, slots, rows):
    runs = balanced_cut(sizes, slots, rows)
    assert [g for run in runs for g in run] == list(range(len(sizes)))
    assert all(len(run) for run in runs)
    assert len(runs) <= max(len(sizes), 0)


def _file(path, sizes) -> str:
    table = pa.table({"id": [f"h{i}" for i in range(sum(sizes))]})
    with pq.ParquetWriter(path, table.schema) as writer:
        start = 0
        for size in sizes:
            writer.write_table(table.slice(start, size))  # a row group each, empty ones too
            start += size
    return str(path)


def test_parts_are_numbered_from_the_footer(tmp_path):
    path = _file(tmp_path / "h.parquet", [3, 0, 4, 4, 2])
    assert [pq.ParquetFile(path).metadata.row_group(i).num_rows for i in range(5)] == [3, 0, 4, 4, 2]
    parts = balanced_parts(path, 2, 4)
    assert [p.start for p in parts] == [sum([3, 0, 4, 4, 2][:p.row_groups[0]]) for p in parts]
    assert [g for p in parts for g in p.row_groups] == list(range(5))
    # --partition-rows: at least that many rows, as before; a trailing empty group can be a partition
    path = _file(tmp_path / "e.parquet", [7, 7, 0])
    assert [(p.row_groups, p.start) for p in parquet_parts(path, 7)] == [((0,), 0), ((1,), 7), ((2,), 14)]
