"""The load figures every writer's tables show, folded over a cell's repeats.

Beside throughput and latency: the error rate, requests unfinished when load stopped,
the failures by cause, which latency model produced the figures, and the open model's
arrivals.  A latency that is a lower bound (censored) reads ">= x".
"""

import statistics
from dataclasses import dataclass

from sessionbench.results import CellConfig, LoadResult

from .summary import CellSummary, format_number

# Latency figures by metric name (as reports/metrics.py names them).
LATENCY_FIELDS = {"p50": "p50_ms", "p90": "p90_ms", "p99": "p99_ms", "max": "max_ms"}


def scenario_label(config: CellConfig) -> str:
    """The scenario, with the target's worker processes when there are several: cells
    under another process count are another deployment, grouped and ranked apart."""
    workers = config.target_workers
    return config.scenario + (f" ({workers} target workers)" if workers > 1 else "")


def loads(summary: CellSummary) -> list[LoadResult]:
    return [cell.load for cell in summary.repeats if cell.load is not None]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def median_latency(summary: CellSummary, metric: str) -> tuple[float | None, bool]:
    """The median over repeats, and whether it is a lower bound: a repeat's figure at or
    below it is one (its true value, and so the median, may be higher)."""
    field = LATENCY_FIELDS[metric]
    found = [(float(getattr(load, field)), metric in load.censored) for load in loads(summary)]
    median = _median([value for value, _ in found])
    if median is None:
        return None, False
    return median, any(censored and value <= median for value, censored in found)


def latency(summary: CellSummary, metric: str) -> str:
    """The median over repeats as text: ">= x" when it is a lower bound."""
    median, lower_bound = median_latency(summary, metric)
    return (">= " if lower_bound else "") + format_number(median)


def error_rate(summary: CellSummary) -> float | None:
    """Median share of failed, unfinished or dropped requests (0..1)."""
    return _median([load.error_rate for load in loads(summary)])


def error_percent(summary: CellSummary) -> str:
    rate = error_rate(summary)
    return "-" if rate is None else f"{100 * rate:.1f} %"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def unfinished(summary: CellSummary) -> str:
    return _count(_median([float(load.unfinished) for load in loads(summary)]))


def model(summary: CellSummary) -> str:
    """Which latency model produced the figures: closed, or open at its arrival rate."""
    rate = summary.config.rate
    return f"open {','.join(f'{r:g}' for r in rate)}/s" if rate else "closed"


@dataclass(frozen=True)
class Cause:
    route: str  # "GET /slow"; "(arrivals)" for dropped arrivals
    error: str
    occurrences: int  # summed over repeats


def causes(summary: CellSummary, *, aborted: bool = False) -> list[Cause]:
    """Failures by cause, most frequent first, summed over the repeats; with `aborted`,
    the requests the clients abandoned on purpose (the abort fault) instead."""
    counts: dict[tuple[str, str], int] = {}
    for load in loads(summary):
        for kind in load.aborted if aborted else load.failures_by_kind:
            key = (f"{kind.method} {kind.name}".strip(), kind.error)
            counts[key] = counts.get(key, 0) + kind.occurrences
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return [Cause(route, error, n) for (route, error), n in ranked]


def failed(summary: CellSummary) -> bool:
    """Any request failed, was unfinished or was dropped (GET /fail's 500 is a success)."""
    return any(load.failures or load.dropped_arrivals for load in loads(summary))


@dataclass(frozen=True)
class OpenFigures:
    intended_rate: str
    achieved_rate: str
    late: str  # "12 (p50 40 ms, max 900 ms)"
    dropped: str


def open_figures(summary: CellSummary) -> OpenFigures | None:
    """Medians of the open model's arrival figures; None for a closed-model cell."""
    found = [load for load in loads(summary) if load.latency_model == "open"]
    if not found:
        return None

    def median(field: str) -> float | None:
        return _median([float(getattr(load, field)) for load in found])

    late = _count(median("late_arrivals"))
    if median("late_arrivals"):
        late += (
            f" (p50 {format_number(median('late_by_p50_ms'))} ms, "
            f"max {format_number(median('late_by_max_ms'))} ms)"
        )
    return OpenFigures(
        intended_rate=format_number(median("intended_rate")),
        achieved_rate=format_number(median("achieved_rate")),
        late=late,
        dropped=_count(median("dropped_arrivals")),
    )
