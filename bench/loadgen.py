"""Driving a target with Locust, headless, in its own process.

Locust is never imported here: it monkey-patches the standard library with gevent at
import time.  Results come from its `--json-file` (per-route histograms) and `--csv`
failures file.  The generator's own CPU is sampled while it runs: a saturated
generator measures itself, not the target, and the run says so.
"""

import csv
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from sessionbench.errors import CellError
from sessionbench.results import FailureKind, LoadResult, RouteStats
from sessionbench.scenarios.catalogue import LOCUSTFILE, Scenario

from .processes import ChildProcesses, tail

# Locust itself warns at 90 % of one core; above that its latencies include its own queueing.
GENERATOR_SATURATION_PERCENT = 90.0
# Time allowed beyond the run time for spawn, stop and writing reports.
SHUTDOWN_ALLOWANCE_S = 30.0


def locust_argv(
    host: str, users: int, duration_s: float, out_prefix: Path, locustfile: Path = LOCUSTFILE
) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
        "--host", host, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{math.ceil(duration_s)}s", "--stop-timeout", "5",
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        "--json-file", str(out_prefix), "--csv", str(out_prefix),
    ]  # fmt: skip


def percentile(histogram: dict[int, int], fraction: float) -> float:
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    rank = math.ceil(fraction * total)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def _route_stats(entry: dict[str, Any], duration_s: float) -> RouteStats:
    histogram = {int(float(k)): int(v) for k, v in entry["response_times"].items()}
    return RouteStats(
        method=entry["method"] or "",
        name=entry["name"],
        requests=entry["num_requests"],
        failures=entry["num_failures"],
        requests_per_s=entry["num_requests"] / duration_s if duration_s else 0.0,
        p50_ms=percentile(histogram, 0.50),
        p90_ms=percentile(histogram, 0.90),
        p99_ms=percentile(histogram, 0.99),
        max_ms=float(entry["max_response_time"] or 0.0),
        histogram_ms=histogram,
    )


def _merge(histograms: list[dict[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
    return merged


def parse_results(out_prefix: Path, cpu_percent: float) -> LoadResult:
    json_path = out_prefix.with_name(out_prefix.name + ".json")
    try:
        entries: list[dict[str, Any]] = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise CellError(f"load generator wrote no readable results: {exc}") from None
    if not entries:
        raise CellError("no request completed during the run: the target did not answer")
    start = min(e["start_time"] for e in entries)
    end = max(e["last_request_timestamp"] or start for e in entries)
    duration_s = max(end - start, 1e-3)
    routes = [_route_stats(e, duration_s) for e in entries]
    overall = _merge([r.histogram_ms for r in routes])
    requests = sum(r.requests for r in routes)
    return LoadResult(
        duration_s=duration_s,
        requests=requests,
        failures=sum(r.failures for r in routes),
        requests_per_s=requests / duration_s,
        p50_ms=percentile(overall, 0.50),
        p90_ms=percentile(overall, 0.90),
        p99_ms=percentile(overall, 0.99),
        max_ms=max(r.max_ms for r in routes),
        routes=routes,
        failures_by_kind=_failures(out_prefix.with_name(out_prefix.name + "_failures.csv")),
        generator_cpu_percent=cpu_percent,
        generator_saturated=cpu_percent >= GENERATOR_SATURATION_PERCENT,
    )


def _failures(csv_path: Path) -> list[FailureKind]:
    if not csv_path.exists():
        return []
    with csv_path.open(newline="") as handle:
        return [
            FailureKind(
                method=row["Method"],
                name=row["Name"],
                error=row["Error"],
                occurrences=int(row["Occurrences"]),
            )
            for row in csv.DictReader(handle)
        ]


def _wait_sampling_cpu(proc: subprocess.Popen[bytes], timeout_s: float) -> float:
    """Wait for the generator; return its CPU use (% of one core) over its lifetime."""
    started = time.monotonic()
    cpu_s = 0.0
    try:
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            if time.monotonic() - started > timeout_s:
                raise CellError(f"load generator still running after {timeout_s:.0f} s")
            times = ps.cpu_times()
            cpu_s = times.user + times.system
            time.sleep(0.2)
    except psutil.NoSuchProcess:
        pass
    # Spawn and shutdown take little CPU; the run-time share dominates the average.
    return 100.0 * cpu_s / max(time.monotonic() - started, 1e-3)


def drive(
    host: str,
    scenario: Scenario,
    users: int,
    duration_s: float,
    children: ChildProcesses,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    locustfile: Path = LOCUSTFILE,
) -> LoadResult:
    out_prefix = workdir / "locust"
    log_path = workdir / "locust.log"
    proc = children.spawn(
        locust_argv(host, users, duration_s, out_prefix, locustfile),
        log_path=log_path,
        env={**scenario.to_env(), **(extra_env or {})},
        cwd=workdir,
    )
    try:
        cpu_percent = _wait_sampling_cpu(proc, duration_s + SHUTDOWN_ALLOWANCE_S)
    finally:
        children.stop(proc)
    if proc.returncode != 0:
        raise CellError(f"load generator failed (exit {proc.returncode}): {tail(log_path, 3)}")
    return parse_results(out_prefix, cpu_percent)
