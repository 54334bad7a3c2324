"""Load figures stay true when the target breaks: real targets, real load, SQLite.

A target whose loop stalls past the end of load leaves requests unanswered: they are
counted, their waits are lower bounds, and throughput is over the configured window.
Under the open model a blocking target falls behind its arrivals, and latency
measured from the intended start shows it.
"""

import json
from pathlib import Path

import pytest

from sessionbench.bench.loadgen import STOP_GRACE_S
from sessionbench.bench.locust_results import unfinished_error
from sessionbench.results import CellResult, LoadResult

from .conftest import run_cells

pytestmark = pytest.mark.integration


def _load(cell: CellResult) -> LoadResult:
    assert cell.status == "ok", cell.error
    assert cell.load is not None
    return cell.load


def _completed_span_rps(celldir: Path) -> float:
    """The old figure: completed requests over the span from first to last completion."""
    entries = json.loads((celldir / "locust.json").read_text())
    start = min(e["start_time"] for e in entries)
    end = max(e["last_request_timestamp"] or start for e in entries)
    return sum(e["num_requests"] for e in entries) / max(end - start, 1e-3)


def test_a_loop_stalled_past_the_end_of_load_leaves_unfinished_censored_requests(
    tmp_path: Path,
) -> None:
    # Every GET /stall blocks the loop 6 s: the requests sent after the first one wait
    # beyond the 3 s window and the stop grace.
    result = run_cells(tmp_path, ["calibration-stall"], "sqlite", "stall", duration_s=3, users=2)
    [cell] = result.cells
    load = _load(cell)
    assert 2.5 <= load.duration_s <= 3.5  # the window, not the span of answers
    completed = load.requests - load.unfinished
    assert load.requests_per_s == pytest.approx(completed / load.duration_s)
    old_rps = _completed_span_rps(tmp_path / cell.config.id.replace("/", "_"))
    assert old_rps >= 10 * load.requests_per_s
    assert load.unfinished >= 1
    assert all(ms >= STOP_GRACE_S * 1000 for ms in load.unfinished_elapsed_ms)
    assert load.failures >= load.unfinished and load.error_rate > 0
    assert "p99" in load.censored and "max" in load.censored
    assert load.p99_ms >= STOP_GRACE_S * 1000
    [stall] = [r for r in load.routes if r.name == "/stall"]
    assert stall.unfinished == load.unfinished
    kinds = {(k.name, k.error): k.occurrences for k in load.failures_by_kind}
    assert kinds[("/stall", unfinished_error(STOP_GRACE_S))] == load.unfinished


def test_open_model_a_blocking_target_falls_behind_its_arrivals(tmp_path: Path) -> None:
    rate = 50.0
    result = run_cells(
        tmp_path, ["async-session", "sync-in-async"], "sqlite", "slow",
        duration_s=5, users=50, rate=(rate,),
    )  # fmt: skip
    healthy, blocking = (_load(cell) for cell in result.cells)
    slow_ms = result.cells[0].config.slow_ms
    for load in (healthy, blocking):
        assert load.latency_model == "open"
        assert load.intended_rate == pytest.approx(rate, rel=0.1)
    # The healthy target keeps up: every arrival sent about on time, answered promptly.
    assert healthy.achieved_rate == pytest.approx(rate, rel=0.1)
    assert healthy.dropped_arrivals == 0 and healthy.error_rate == 0
    assert healthy.late_arrivals <= 0.05 * healthy.arrivals
    assert healthy.p50_ms < 4 * slow_ms
    # The blocking one serves one slow query at a time: arrivals wait for a free user
    # and latency counted from the intended start is far above the 50 ms of work.
    assert blocking.late_arrivals + blocking.dropped_arrivals >= 0.2 * blocking.arrivals
    assert blocking.achieved_rate < 0.9 * rate
    assert blocking.p50_ms >= 4 * slow_ms
    assert blocking.p99_ms >= 10 * slow_ms
