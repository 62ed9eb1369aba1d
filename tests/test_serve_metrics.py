"""``/metrics`` of a server with several worker processes: each worker's counters in its
own file, summed by whichever worker a scrape reaches (web/api/metrics.py)."""
from __future__ import annotations

import json
import os

import pytest

from fupin.web.api import metrics

SNAP_A = {"requests": [["/v1/evaluate", "POST", 200, 3], ["/healthz", "GET", 200, 1]],
          "errors": {"E802": 2}, "latency": {"/v1/evaluate": [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]},
          "totals": {"evaluations": 5}}
SNAP_B = {"requests": [["/v1/evaluate", "POST", 200, 4], ["/v1/evaluate", "POST", 400, 1]],
          "errors": {"E802": 1, "E871": 1}, "latency": {"/v1/evaluate": [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.25]},
          "totals": {"evaluations": 7}}


@pytest.mark.parametrize("snaps, key, want", [
    ([SNAP_A, SNAP_B], ("requests", ("/v1/evaluate", "POST", 200)), 7),
    ([SNAP_A, SNAP_B], ("requests", ("/v1/evaluate", "POST", 400)), 1),
    ([SNAP_A, SNAP_B], ("requests", ("/healthz", "GET", 200)), 1),
    ([SNAP_A, SNAP_B], ("errors", "E802"), 3),
    ([SNAP_A, SNAP_B], ("errors", "E871"), 1),
    ([SNAP_A, SNAP_B], ("totals", "evaluations"), 12),
    ([SNAP_A], ("totals", "evaluations"), 5),
    ([], ("totals", "evaluations"), 0),
    ([{}, SNAP_B], ("errors", "E802"), 1),
])
def test_merged_adds_every_counter(snaps, key, want):
    family, label = key
    assert metrics.merged(snaps)[family][label] == want


def test_merged_adds_histogram_buckets_and_sums():
    row = metrics.merged([SNAP_A, SNAP_B])["latency"]["/v1/evaluate"]
    assert row[:3] == [1, 3, 1] and row[-1] == 0.75


@pytest.fixture
def shared(tmp_path):
    folder = tmp_path / "metrics"
    metrics.share(folder)
    yield folder
    metrics.share(None)


def _value(text: str, line_start: str) -> float:
    found = [ln for ln in text.splitlines() if ln.startswith(line_start + " ")]
    assert len(found) == 1, (line_start, text)
    return float(found[0].rsplit(" ", 1)[1])


def test_a_scrape_sums_the_other_workers_files_with_its_own_live_counters(shared):
    before = metrics.merged([json.loads((shared / f"{os.getpid()}.json").read_text())])
    (shared / "101.json").write_text(json.dumps(SNAP_A), encoding="utf-8")
    (shared / "102.json").write_text(json.dumps(SNAP_B), encoding="utf-8")
    metrics.count("evaluations", 2)
    text = metrics.render(0)
    assert _value(text, "fupin_evaluations_total") == before["totals"]["evaluations"] + 2 + 12
    own = before["requests"][("/v1/evaluate", "POST", 200)]
    assert _value(text, 'fupin_requests_total{route="/v1/evaluate",method="POST",status="200"}') == own + 7
    assert _value(text, 'fupin_request_seconds_count{route="/v1/evaluate"}') >= 4


def test_its_own_file_is_never_counted_beside_its_live_counters(shared):
    metrics.count("evaluations", 1)
    live = _value(metrics.render(0), "fupin_evaluations_total")
    (shared / f"{os.getpid()}.json").write_text(json.dumps(SNAP_A), encoding="utf-8")  # a stale own file
    assert _value(metrics.render(0), "fupin_evaluations_total") == live


@pytest.mark.parametrize("junk", [b"", b"{not json", b"\xff\xfe", b"[1, 2"])
def test_an_unreadable_file_is_skipped_and_the_scrape_answers(shared, junk):
    live = _value(metrics.render(0), "fupin_evaluations_total")
    (shared / "103.json").write_bytes(junk)
    (shared / "104.json").write_text(json.dumps(SNAP_B), encoding="utf-8")
    assert _value(metrics.render(0), "fupin_evaluations_total") == live + 7


def test_a_change_reaches_the_workers_file_within_the_flush_interval(shared):
    import time

    metrics.count("evaluations", 3)
    deadline = time.monotonic() + 20 * metrics.FLUSH_SECONDS
    live = _value(metrics.render(0), "fupin_evaluations_total")
    while time.monotonic() < deadline:
        on_disk = json.loads((shared / f"{os.getpid()}.json").read_text(encoding="utf-8"))
        if on_disk["totals"].get("evaluations") == live:
            break
        time.sleep(metrics.FLUSH_SECONDS / 4)
    else:
        raise AssertionError("the worker's file did not catch up")
    assert not list(shared.glob(".*.tmp"))  # replaced whole, no half-written file left


def test_alone_again_after_share_none(tmp_path):
    folder = tmp_path / "m"
    metrics.share(folder)
    (folder / "105.json").write_text(json.dumps(SNAP_B), encoding="utf-8")
    shared_total = _value(metrics.render(0), "fupin_evaluations_total")
    metrics.share(None)
    assert _value(metrics.render(0), "fupin_evaluations_total") == shared_total - 7
