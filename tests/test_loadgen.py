import json
from pathlib import Path

import pytest

from sessionbench.bench.loadgen import parse_results, percentile
from sessionbench.errors import CellError


def test_percentiles_follow_the_histogram() -> None:
    histogram = {1: 50, 2: 40, 10: 9, 300: 1}
    assert percentile(histogram, 0.5) == 1
    assert percentile(histogram, 0.9) == 2
    assert percentile(histogram, 0.99) == 10
    assert percentile(histogram, 1.0) == 300
    assert percentile({}, 0.5) == 0


def _entry(name: str, times: dict[str, int], failures: int = 0) -> dict[str, object]:
    return {
        "name": name, "method": "GET", "start_time": 100.0, "last_request_timestamp": 110.0,
        "num_requests": sum(times.values()), "num_failures": failures,
        "max_response_time": max(float(k) for k in times), "response_times": times,
    }  # fmt: skip


def test_locust_output_becomes_route_and_overall_figures(tmp_path: Path) -> None:
    prefix = tmp_path / "locust"
    (tmp_path / "locust.json").write_text(
        json.dumps([_entry("/health", {"1": 900}), _entry("/slow", {"50": 90, "55": 10}, 2)])
    )
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences\nGET,/slow,\"HTTPError('502')\",2\n"
    )
    result = parse_results(prefix, cpu_percent=95.0)
    assert result.requests == 1000
    assert result.requests_per_s == pytest.approx(100.0)
    assert result.failures == 2
    assert result.p50_ms == 1 and result.p99_ms == 50 and result.max_ms == 55
    assert [r.name for r in result.routes] == ["/health", "/slow"]
    assert result.failures_by_kind[0].occurrences == 2
    assert result.generator_saturated


def test_missing_output_is_a_cell_error(tmp_path: Path) -> None:
    with pytest.raises(CellError, match="no readable results"):
        parse_results(tmp_path / "locust", cpu_percent=10.0)
