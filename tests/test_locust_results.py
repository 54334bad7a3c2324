import json
from pathlib import Path
from typing import Any

import pytest

from sessionbench.bench.latency import latencies, percentile
from sessionbench.bench.locust_results import dropped_error, parse_results, unfinished_error
from sessionbench.errors import CellError

UNFINISHED_ERROR = unfinished_error(2.0)


def test_percentiles_follow_the_histogram() -> None:
    histogram = {1: 50, 2: 40, 10: 9, 300: 1}
    assert percentile(histogram, 0.5) == 1
    assert percentile(histogram, 0.9) == 2
    assert percentile(histogram, 0.99) == 10
    assert percentile(histogram, 1.0) == 300
    assert percentile({}, 0.5) == 0


def test_without_lower_bounds_nothing_is_censored() -> None:
    figures = latencies({1: 50, 2: 40, 10: 9, 300: 1}, [], max_ms=301.5)
    assert (figures.p50_ms, figures.p90_ms, figures.p99_ms) == (1, 2, 10)
    assert figures.max_ms == 301.5
    assert figures.censored == []


def test_a_percentile_reaching_a_lower_bound_is_censored() -> None:
    figures = latencies({10: 98}, [5000.0, 6000.0], max_ms=10.4)
    assert (figures.p50_ms, figures.p90_ms) == (10, 10)
    assert figures.p99_ms == 5000.0
    assert figures.max_ms == 6000.0
    assert figures.censored == ["p99", "max"]


def test_a_lower_bound_below_the_rank_censors_it_too() -> None:
    # The unfinished request waited 5 ms so far; it may yet take longer than 10 or 20.
    figures = latencies({10: 1, 20: 1, 30: 1}, [5.0], max_ms=30.0)
    assert figures.p50_ms == 10
    assert figures.censored == ["p50", "p90", "p99", "max"]


def test_at_equal_values_a_completed_request_holds_the_rank() -> None:
    figures = latencies({100: 2}, [100.0], max_ms=100.0)
    assert figures.p50_ms == 100
    assert "p50" not in figures.censored
    assert "p99" in figures.censored


def _entry(name: str, times: dict[str, int], failures: int = 0) -> dict[str, object]:
    return {
        "name": name, "method": "GET", "start_time": 100.0, "last_request_timestamp": 100.05,
        "num_requests": sum(times.values()), "num_failures": failures,
        "max_response_time": max(float(k) for k in times), "response_times": times,
    }  # fmt: skip


def _write(
    tmp_path: Path,
    entries: list[dict[str, object]],
    ledger: dict[str, Any] | None,
    failures_csv: str = "Method,Name,Error,Occurrences\n",
) -> Path:
    (tmp_path / "locust.json").write_text(json.dumps(entries))
    (tmp_path / "locust_failures.csv").write_text(failures_csv)
    if ledger is not None:
        (tmp_path / "locust_ledger.json").write_text(json.dumps(ledger))
    return tmp_path / "locust"


def _ledger(window_s: float, unfinished: list[tuple[str, float]] | None = None) -> dict[str, Any]:
    return {
        "window_s": window_s,
        "stop_grace_s": 2.0,
        "unfinished": [
            {"method": "GET", "name": n, "elapsed_ms": ms} for n, ms in unfinished or []
        ],
        "open": None,
    }


def test_locust_output_becomes_route_and_overall_figures(tmp_path: Path) -> None:
    prefix = _write(
        tmp_path,
        [_entry("/health", {"1": 900}), _entry("/slow", {"50": 90, "55": 10}, 2)],
        _ledger(10.0),
        "Method,Name,Error,Occurrences\nGET,/slow,\"HTTPError('502')\",2\n",
    )
    result = parse_results(prefix, cpu_percent=95.0)
    assert result.latency_model == "closed"
    assert result.requests == 1000
    assert result.requests_per_s == pytest.approx(100.0)
    assert result.failures == 2 and result.error_rate == pytest.approx(0.002)
    assert result.p50_ms == 1 and result.p99_ms == 50 and result.max_ms == 55
    assert result.censored == [] and result.unfinished == 0
    assert [r.name for r in result.routes] == ["/health", "/slow"]
    assert result.failures_by_kind[0].occurrences == 2
    assert result.generator_saturated


def test_throughput_is_over_the_load_window_not_the_completed_span(tmp_path: Path) -> None:
    # 15 answers within 50 ms, then the loop blocked to the end of an 8 s window: the
    # span of completed requests would say 300 req/s.
    prefix = _write(
        tmp_path,
        [_entry("/slow", {"60": 15})],
        _ledger(8.0, [("/slow", 7900.0)] * 16),
    )
    result = parse_results(prefix, cpu_percent=10.0)
    assert result.duration_s == 8.0
    assert result.requests_per_s == pytest.approx(15 / 8)
    assert result.requests == 31 and result.failures == 16 and result.unfinished == 16
    assert result.error_rate == pytest.approx(16 / 31)
    assert result.p50_ms == 7900.0 and "p50" in result.censored
    assert result.max_ms == 7900.0 and "max" in result.censored
    [unfinished] = result.failures_by_kind
    assert (unfinished.name, unfinished.error, unfinished.occurrences) == (
        "/slow",
        UNFINISHED_ERROR,
        16,
    )
    [route] = result.routes
    assert (route.requests, route.failures, route.unfinished) == (31, 16, 16)
    assert route.censored == ["p50", "p90", "p99", "max"]


def test_a_route_whose_every_request_was_unfinished_is_listed(tmp_path: Path) -> None:
    prefix = _write(
        tmp_path, [_entry("/health", {"2": 98})], _ledger(4.0, [("/stall", 3100.0)] * 2)
    )
    result = parse_results(prefix, cpu_percent=10.0)
    stall = next(r for r in result.routes if r.name == "/stall")
    assert (stall.requests, stall.unfinished, stall.histogram_ms) == (2, 2, {})
    assert stall.p50_ms == 3100.0 and stall.censored == ["p50", "p90", "p99", "max"]
    assert result.p50_ms == 2 and result.p99_ms == 3100.0
    assert result.censored == ["p99", "max"]


def test_open_model_figures_come_from_the_ledger(tmp_path: Path) -> None:
    ledger = _ledger(10.0, [("/slow", 1800.0)])
    ledger["open"] = {
        "rate_steps": [50.0],
        "late_after_ms": 10.0,
        "drop_after_s": 1.0,
        "arrivals_due": 500,
        "started": 400,
        "lateness_ms": {"0": 300, "4": 50, "20": 40, "900": 10},
        "dropped_waited_ms": [1000.5] * 100,
        "corrected_ms": {"GET /slow": {"55": 300, "950": 99}},
    }
    # Locust's own (service-time) histogram says 50 ms: the ledger's corrected one wins.
    prefix = _write(tmp_path, [_entry("/slow", {"50": 399})], ledger)
    result = parse_results(prefix, cpu_percent=10.0)
    assert result.latency_model == "open"
    assert result.intended_rate == pytest.approx(50.0)
    assert result.achieved_rate == pytest.approx(40.0)
    assert result.requests_per_s == pytest.approx(39.9)
    assert result.arrivals == 500 and result.dropped_arrivals == 100
    assert result.late_arrivals == 50
    assert result.late_by_p50_ms == 20 and result.late_by_max_ms == 900
    assert result.requests == 400 and result.failures == 1
    assert result.error_rate == pytest.approx(101 / 500)
    # 300 at 55 ms, 99 at 950, then 101 lower bounds: the median is exact, p90 is not.
    assert result.p50_ms == 55 and result.p90_ms == 1000.5 and result.p99_ms == 1000.5
    assert result.max_ms == 1800.0 and result.censored == ["p90", "p99", "max"]
    assert result.routes[0].histogram_ms == {55: 300, 950: 99}
    dropped = next(f for f in result.failures_by_kind if f.error == dropped_error(1.0))
    assert dropped.occurrences == 100


def test_missing_output_is_a_cell_error(tmp_path: Path) -> None:
    with pytest.raises(CellError, match="no readable results"):
        parse_results(tmp_path / "locust", cpu_percent=10.0)


def test_a_missing_ledger_is_a_cell_error(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [_entry("/health", {"1": 9})], None)
    with pytest.raises(CellError, match="no readable load window"):
        parse_results(prefix, cpu_percent=10.0)


def test_a_run_that_sent_nothing_is_a_cell_error(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [], _ledger(3.0))
    with pytest.raises(CellError, match="no request was sent"):
        parse_results(prefix, cpu_percent=10.0)


def test_aborted_requests_are_counted_apart_from_requests_and_failures(tmp_path: Path) -> None:
    ledger = {**_ledger(4.0), "aborted": {"GET /export": 7}}
    prefix = _write(tmp_path, [_entry("/export", {"120": 20})], ledger)
    result = parse_results(prefix, cpu_percent=10.0)
    assert (result.requests, result.failures, result.failures_by_kind) == (20, 0, [])
    [aborted] = result.aborted
    assert (aborted.method, aborted.name, aborted.occurrences) == ("GET", "/export", 7)
    assert aborted.error == "aborted by the client (fault)"


def test_a_ledger_from_before_the_abort_fault_has_no_aborted_requests(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [_entry("/health", {"2": 10})], _ledger(4.0))
    assert parse_results(prefix, cpu_percent=10.0).aborted == []
