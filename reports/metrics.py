"""The numbers reports rank by and the gate checks, each read from one cell result.

Gate strings name these metrics (`rps:-10%`); a metric a cell lacks (no load, no
diagnostics yet) reads as None and is left out rather than counted as zero.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sessionbench.results import CellResult


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    read: Callable[[CellResult], float | None]


def _load(field: str) -> Callable[[CellResult], float | None]:
    def read(cell: CellResult) -> float | None:
        return None if cell.load is None else float(getattr(cell.load, field))

    return read


def _diagnostics(field: str) -> Callable[[CellResult], float | None]:
    def read(cell: CellResult) -> float | None:
        # A run without probe samples has no lag measurement: absent, not zero.
        if cell.diagnostics is None or not cell.diagnostics.samples:
            return None
        return float(getattr(cell.diagnostics, field))

    return read


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("rps", "throughput", "req/s", "higher", _load("requests_per_s")),
        Metric("p50", "p50 latency", "ms", "lower", _load("p50_ms")),
        Metric("p90", "p90 latency", "ms", "lower", _load("p90_ms")),
        Metric("p99", "p99 latency", "ms", "lower", _load("p99_ms")),
        Metric("max", "max latency", "ms", "lower", _load("max_ms")),
        Metric("lag_max", "loop lag max", "ms", "lower", _diagnostics("loop_lag_max_ms")),
        Metric("lag_total", "loop lag total", "ms", "lower", _diagnostics("loop_lag_total_ms")),
    ]
}


def values(metric: Metric, cells: list[CellResult]) -> list[float]:
    """The metric over the repeats of one cell, skipping repeats that lack it."""
    return [v for cell in cells if (v := metric.read(cell)) is not None]
