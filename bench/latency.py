"""Percentiles of latency histograms, with lower bounds (censored values) beside them.

A request killed unanswered, or an arrival never sent, has no latency, only a time it
had waited so far: a lower bound.  Leaving those out would make the worst cells look
best, so they are ranked with the completed requests, and a percentile is marked
censored when a lower bound sits at or below its rank: the true value could be higher.
"""

import math
from dataclasses import dataclass

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}


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


def merge(histograms: list[dict[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
    return merged


@dataclass(frozen=True)
class Latencies:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    censored: list[str]  # names of the figures that are lower bounds: p50, p90, p99, max


Ranked = list[tuple[float, bool, int]]  # value, is a lower bound, count


def _at_rank(ranked: Ranked, rank: int) -> tuple[float, bool]:
    """The value at `rank` (1-based), and whether a lower bound ranks at or below it."""
    seen, bounds_seen = 0, False
    for value, is_bound, count in ranked:
        seen += count
        bounds_seen = bounds_seen or is_bound
        if seen >= rank:
            return value, bounds_seen
    return 0.0, False


def latencies(completed: dict[int, int], lower_bounds: list[float], max_ms: float) -> Latencies:
    """Percentiles over completed requests (a histogram) and lower bounds together.

    `max_ms` is the completed requests' exact maximum (the histogram is rounded)."""
    # At equal values a completed request ranks first: a rank it holds is exact.
    ranked: Ranked = sorted(
        [(float(value), False, count) for value, count in completed.items()]
        + [(bound, True, 1) for bound in lower_bounds]
    )
    total = sum(count for _, _, count in ranked)
    figures: dict[str, float] = {}
    censored: list[str] = []
    for name, fraction in PERCENTILES.items():
        figures[name], is_bound = _at_rank(ranked, max(1, math.ceil(fraction * total)))
        if is_bound:
            censored.append(name)
    if lower_bounds:
        censored.append("max")
    return Latencies(
        p50_ms=figures["p50"],
        p90_ms=figures["p90"],
        p99_ms=figures["p99"],
        max_ms=max([max_ms, *lower_bounds]),
        censored=censored,
    )
