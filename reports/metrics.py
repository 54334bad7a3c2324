"""The numbers reports rank by and the gate checks, each read from one cell result.

Gate strings name these metrics (`rps:-10%`); a metric a cell lacks (no load, no
diagnostics yet) reads as None and is left out rather than counted as zero.  Most
metrics change by a ratio (new/base); error rates start at zero, so theirs is a
difference in percentage points.
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
    scale: Literal["ratio", "points"] = "ratio"

    @property
    def worse(self) -> Literal["higher", "lower"]:
        return "lower" if self.better == "higher" else "higher"


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


def _share(field: str) -> Callable[[CellResult], float | None]:
    def read(cell: CellResult) -> float | None:
        if cell.load is None or not cell.load.requests:
            return None
        return float(getattr(cell.load, field)) / cell.load.requests

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
        # Failed requests (unfinished ones included) among all sent.
        Metric("errors", "error rate", "%", "lower", _share("failures"), "points"),
        Metric("unfinished", "unfinished requests", "%", "lower", _share("unfinished"), "points"),
    ]
}


def values(metric: Metric, cells: list[CellResult]) -> list[float]:
    """The metric over the repeats of one cell, skipping repeats that lack it."""
    return [v for cell in cells if (v := metric.read(cell)) is not None]
