"""Driving a target with Locust, headless, in its own process.

Locust is never imported here: it monkey-patches the standard library with gevent at
import time.  Results come from its `--json-file` (per-route histograms) and `--csv`
failures file, and from the locustfile's ledger (the real load window, requests killed
unanswered at stop, the open model's arrivals).  The generator's own CPU is sampled
while it runs: a saturated generator measures itself, not the target, and the run
says so.
"""

import csv
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from sessionbench.errors import CellError
from sessionbench.results import FailureKind, LoadResult, RouteStats
from sessionbench.scenarios.catalogue import LOCUSTFILE, Scenario

from .latency import latencies, merge, percentile
from .processes import ChildProcesses, tail

# Locust itself warns at 90 % of one core; above that its latencies include its own queueing.
GENERATOR_SATURATION_PERCENT = 90.0
# Time allowed beyond the run time for spawn, stop and writing reports.
SHUTDOWN_ALLOWANCE_S = 30.0
# When load stops, a request already sent may finish for this long (Locust's
# --stop-timeout: a user ends after its current task, and no new request starts), so a
# healthy target's last answers count with their true latency.  Killing at once would
# make every cell's last `users` requests unfinished; waiting long would let a stalled
# target hide its stall.  Longer than any healthy request of the scenarios (200 ms
# queries); a request still unanswered then is killed and counted unfinished.
STOP_GRACE_S = 2.0
UNFINISHED_ERROR = f"unfinished: no answer {STOP_GRACE_S:.0f} s after load stopped (killed)"


def dropped_error(drop_after_s: float) -> str:
    return (
        f"dropped: never sent, no user free within {drop_after_s:g} s of its intended start "
        "or before load stopped"
    )


def locust_argv(host: str, users: int, duration_s: float, out_prefix: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", host, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{run_time_s(duration_s)}s", "--stop-timeout", f"{STOP_GRACE_S:g}",
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        "--json-file", str(out_prefix), "--csv", str(out_prefix),
    ]  # fmt: skip


def run_time_s(duration_s: float) -> int:
    return math.ceil(duration_s)


@dataclass
class Ledger:
    """The locustfile's own figures (see `_write_ledger` there)."""

    window_s: float
    unfinished: list[dict[str, Any]]
    open: dict[str, Any] | None

    def unfinished_of(self, key: tuple[str, str]) -> list[float]:
        return [float(u["elapsed_ms"]) for u in self.unfinished if (u["method"], u["name"]) == key]


@dataclass
class _Route:
    method: str
    name: str
    entry: dict[str, Any] = field(default_factory=dict)  # Locust's, if any request completed


def _read_ledger(path: Path) -> Ledger:
    try:
        raw = json.loads(path.read_text())
        return Ledger(float(raw["window_s"]), list(raw["unfinished"]), raw["open"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CellError(f"load generator wrote no readable load window: {exc}") from None


def _histogram(raw: dict[str, int]) -> dict[int, int]:
    return {int(float(k)): int(v) for k, v in raw.items()}


def _completed(route: _Route, ledger: Ledger) -> tuple[dict[int, int], float]:
    """A route's completed requests: latency histogram and exact maximum.  Open model:
    measured from the intended start, not from the send."""
    if ledger.open is None:
        histogram = _histogram(route.entry.get("response_times", {}))
        return histogram, float(route.entry.get("max_response_time") or 0.0)
    histogram = _histogram(ledger.open["corrected_ms"].get(f"{route.method} {route.name}", {}))
    return histogram, float(max(histogram, default=0))


def _route_stats(route: _Route, ledger: Ledger) -> RouteStats:
    unfinished = ledger.unfinished_of((route.method, route.name))
    completed, failures = route.entry.get("num_requests", 0), route.entry.get("num_failures", 0)
    histogram, exact_max = _completed(route, ledger)
    figures = latencies(histogram, unfinished, exact_max)
    return RouteStats(
        method=route.method,
        name=route.name,
        requests=completed + len(unfinished),
        failures=failures + len(unfinished),
        requests_per_s=completed / ledger.window_s if ledger.window_s else 0.0,
        p50_ms=figures.p50_ms,
        p90_ms=figures.p90_ms,
        p99_ms=figures.p99_ms,
        max_ms=figures.max_ms,
        histogram_ms=histogram,
        unfinished=len(unfinished),
        censored=figures.censored,
    )


def _routes(entries: list[dict[str, Any]], ledger: Ledger) -> list[_Route]:
    """Locust's routes, and those whose every request was unfinished (Locust has none)."""
    routes = {
        (e["method"] or "", e["name"]): _Route(e["method"] or "", e["name"], e) for e in entries
    }
    for u in ledger.unfinished:
        routes.setdefault((u["method"], u["name"]), _Route(u["method"], u["name"]))
    return list(routes.values())


def _open_figures(ledger: Ledger) -> dict[str, Any]:
    """The open model's schedule figures, per second of the window."""
    if ledger.open is None:
        return {}
    figures, window = ledger.open, ledger.window_s or 1e-3
    lateness = _histogram(figures["lateness_ms"])
    late_after = float(figures["late_after_ms"])
    late = {ms: n for ms, n in lateness.items() if ms >= late_after}
    return {
        "latency_model": "open",
        "intended_rate": figures["arrivals_due"] / window,
        "achieved_rate": figures["started"] / window,
        "arrivals": figures["arrivals_due"],
        "late_arrivals": sum(late.values()),
        "late_after_ms": late_after,
        "late_by_p50_ms": percentile(late, 0.5),
        "late_by_max_ms": float(max(late, default=0)),
        "dropped_arrivals": len(figures["dropped_waited_ms"]),
        "lateness_histogram_ms": lateness,
    }


def parse_results(out_prefix: Path, cpu_percent: float) -> LoadResult:
    json_path = out_prefix.with_name(out_prefix.name + ".json")
    try:
        entries: list[dict[str, Any]] = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise CellError(f"load generator wrote no readable results: {exc}") from None
    ledger = _read_ledger(out_prefix.with_name(out_prefix.name + "_ledger.json"))
    found = _routes(entries, ledger)
    routes = [_route_stats(route, ledger) for route in found]
    dropped = [float(ms) for ms in (ledger.open or {}).get("dropped_waited_ms", [])]
    if not routes and not dropped:
        raise CellError("no request was sent during the run")
    lower_bounds = [float(u["elapsed_ms"]) for u in ledger.unfinished] + dropped
    figures = latencies(
        merge([r.histogram_ms for r in routes]),
        lower_bounds,
        max((_completed(route, ledger)[1] for route in found), default=0.0),
    )
    completed = sum(r.requests - r.unfinished for r in routes)
    return LoadResult(
        duration_s=ledger.window_s,
        requests=sum(r.requests for r in routes),
        failures=sum(r.failures for r in routes),
        requests_per_s=completed / ledger.window_s if ledger.window_s else 0.0,
        unfinished=len(ledger.unfinished),
        unfinished_elapsed_ms=sorted(float(u["elapsed_ms"]) for u in ledger.unfinished),
        censored=figures.censored,
        p50_ms=figures.p50_ms,
        p90_ms=figures.p90_ms,
        p99_ms=figures.p99_ms,
        max_ms=figures.max_ms,
        routes=routes,
        failures_by_kind=_failure_kinds(out_prefix, routes, ledger),
        generator_cpu_percent=cpu_percent,
        generator_saturated=cpu_percent >= GENERATOR_SATURATION_PERCENT,
        **_open_figures(ledger),
    )


def _failure_kinds(out_prefix: Path, routes: list[RouteStats], ledger: Ledger) -> list[FailureKind]:
    """Locust's failures by cause, then the unfinished per route and the dropped arrivals."""
    kinds = _failures(out_prefix.with_name(out_prefix.name + "_failures.csv"))
    kinds += [
        FailureKind(method=r.method, name=r.name, error=UNFINISHED_ERROR, occurrences=r.unfinished)
        for r in routes
        if r.unfinished
    ]
    if ledger.open and ledger.open["dropped_waited_ms"]:
        kinds.append(
            FailureKind(
                method="",
                name="(arrivals)",
                error=dropped_error(float(ledger.open["drop_after_s"])),
                occurrences=len(ledger.open["dropped_waited_ms"]),
            )
        )
    return kinds


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
    rate: list[float] | None = None,
) -> LoadResult:
    """Closed model, or open with `rate` (arrivals/s per equal step; `users` the pool)."""
    out_prefix = workdir / "locust"
    log_path = workdir / "locust.log"
    load_env = {
        "SESSIONBENCH_LOAD_FILE": str(out_prefix.with_name(out_prefix.name + "_ledger.json")),
        "SESSIONBENCH_RATE": json.dumps(rate or []),
        "SESSIONBENCH_RUN_TIME_S": str(run_time_s(duration_s)),
    }
    proc = children.spawn(
        locust_argv(host, users, duration_s, out_prefix),
        log_path=log_path,
        env={**scenario.to_env(), **load_env, **(extra_env or {})},
        cwd=workdir,
    )
    try:
        cpu_percent = _wait_sampling_cpu(proc, duration_s + SHUTDOWN_ALLOWANCE_S)
    finally:
        children.stop(proc)
    if proc.returncode != 0:
        raise CellError(f"load generator failed (exit {proc.returncode}): {tail(log_path, 3)}")
    return parse_results(out_prefix, cpu_percent)
