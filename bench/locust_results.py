"""Locust's output and the locustfile's ledger, read into one LoadResult.

Locust writes per-route histograms (`--json-file`) and failures by cause (`--csv`); the
ledger adds what Locust cannot hold: the real load window, requests killed unanswered
when load stopped, and the open model's arrivals.  See `scenarios/locustfile.py`.
"""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessionbench.errors import CellError
from sessionbench.results import FailureKind, LoadResult, RouteStats

from .latency import latencies, merge, percentile

# Locust itself warns at 90 % of one core; above that its latencies include its own queueing.
GENERATOR_SATURATION_PERCENT = 90.0


def unfinished_error(stop_grace_s: float) -> str:
    # A user is stopped when load stops, or when a burst ends and its users are removed.
    return f"unfinished: no answer {stop_grace_s:g} s after its user was stopped (killed)"


# A request its client abandoned on purpose (the scenario's `abort` fault).
ABORTED_ERROR = "aborted by the client (fault)"


def dropped_error(drop_after_s: float) -> str:
    return (
        f"dropped: never sent, no user free within {drop_after_s:g} s of its intended start "
        "or before load stopped"
    )


@dataclass
class Ledger:
    """The locustfile's own figures (see `_write_ledger` there)."""

    window_s: float
    stop_grace_s: float
    unfinished: list[dict[str, Any]]
    open: dict[str, Any] | None
    aborted: dict[str, int] = field(default_factory=dict)  # "METHOD name" -> abandoned

    def unfinished_of(self, key: tuple[str, str]) -> list[float]:
        return [float(u["elapsed_ms"]) for u in self.unfinished if (u["method"], u["name"]) == key]


@dataclass
class _Route:
    method: str
    name: str
    entry: dict[str, Any] = field(default_factory=dict)  # Locust's, if any request completed


def _read_ledger(path: Path, configured_window_s: float | None) -> Ledger:
    if not path.exists() and configured_window_s is not None:
        # A locustfile of the user's own keeps no ledger: the window is the configured
        # one, and requests it left unfinished cannot be counted.
        return Ledger(configured_window_s, 0.0, [], None)
    try:
        raw = json.loads(path.read_text())
        return Ledger(
            float(raw["window_s"]),
            float(raw["stop_grace_s"]),
            list(raw["unfinished"]),
            raw["open"],
            {str(k): int(v) for k, v in raw.get("aborted", {}).items()},
        )
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


def parse_results(
    out_prefix: Path, cpu_percent: float, configured_window_s: float | None = None
) -> LoadResult:
    json_path = out_prefix.with_name(out_prefix.name + ".json")
    try:
        entries: list[dict[str, Any]] = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise CellError(f"load generator wrote no readable results: {exc}") from None
    ledger = _read_ledger(
        out_prefix.with_name(out_prefix.name + "_ledger.json"), configured_window_s
    )
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
        aborted=_aborted(ledger),
        generator_cpu_percent=cpu_percent,
        generator_saturated=cpu_percent >= GENERATOR_SATURATION_PERCENT,
        **_open_figures(ledger),
    )


def _failure_kinds(out_prefix: Path, routes: list[RouteStats], ledger: Ledger) -> list[FailureKind]:
    """Locust's failures by cause, then the unfinished per route and the dropped arrivals."""
    kinds = _failures(out_prefix.with_name(out_prefix.name + "_failures.csv"))
    kinds += [
        FailureKind(
            method=r.method,
            name=r.name,
            error=unfinished_error(ledger.stop_grace_s),
            occurrences=r.unfinished,
        )
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


def _aborted(ledger: Ledger) -> list[FailureKind]:
    """The requests the clients abandoned on purpose, per route: apart from the failures."""
    return [
        FailureKind(method=method, name=name, error=ABORTED_ERROR, occurrences=n)
        for (method, _, name), n in sorted(
            (key.partition(" "), n) for key, n in ledger.aborted.items()
        )
    ]


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
