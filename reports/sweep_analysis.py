"""A pool-sizing sweep's analysis: its points, the knee per users level, the recommended
pool size and the arithmetic against the server's connection limit.

A pure function of a saved run (`RunResult.sweep` and its cells), so `sessionbench
report` on a sweep's results.json gives the same table and recommendation as the run.

The knee, per users level: the smallest pool_size whose throughput is within the
tolerance of the best point of that level, that failed no request and whose requests
spent less than `max_wait_share` of their time waiting for a pool connection.  The
recommendation is the largest knee over the levels, so the pool serves the highest
concurrency measured.
"""

from dataclasses import dataclass

import numpy as np

from sessionbench.capacity import ConnectionBudget
from sessionbench.results import CellResult, RunResult
from sessionbench.sweep_record import ServerLimits, SweepRecord

from . import load_figures, stats
from .summary import CellSummary, summarise

# A point within this many spreads of the best cannot be told from it: two log
# standard deviations hold about 95 % of one run's noise.
NOISE_SPREADS = 2.0


@dataclass(frozen=True)
class Point:
    """One pool_size x users cell of the sweep, folded over its repeats (medians)."""

    pool_size: int
    users: int
    summary: CellSummary
    rps: float | None
    error_rate: float | None  # failed, unfinished or dropped, of all requests
    p99_ms: float | None
    p99_lower_bound: bool
    wait_p99_ms: float | None  # checkout wait, every engine's checkouts
    wait_share: float | None  # summed checkout wait / summed request latency
    server_connections: int | None  # the server's peak count of the target's connections

    @property
    def clean(self) -> bool:
        """Measured, and every request answered successfully."""
        return self.rps is not None and not self.error_rate and not self.summary.errors


@dataclass(frozen=True)
class Knee:
    users: int
    pool_size: int | None  # None: no point of this level qualifies
    best_rps: float | None
    reason: str


@dataclass(frozen=True)
class Arithmetic:
    """workers x (pool_size + max_overflow) against the connections the server allows."""

    workers: int
    pool_size: int
    max_overflow: int
    limits: ServerLimits

    @property
    def budget(self) -> ConnectionBudget:
        per_worker = None if self.max_overflow < 0 else self.pool_size + self.max_overflow
        return ConnectionBudget(self.workers, per_worker, self.limits.available)

    @property
    def needed(self) -> int | None:
        """Connections the target may open at once; None: unbounded overflow."""
        return self.budget.total

    @property
    def headroom(self) -> int | None:
        available = self.limits.available
        return None if available is None or self.needed is None else available - self.needed

    @property
    def largest_pool_size(self) -> int | None:
        """The largest pool_size whose connections, over every worker, still fit."""
        available = self.limits.available
        if available is None or self.max_overflow < 0:
            return None
        return available // self.workers - self.max_overflow

    def lines(self) -> list[str]:
        limits = self.limits
        if limits.available is None:
            return [f"server connection limit: {limits.note or 'unknown'}"]
        per = "unbounded" if self.max_overflow < 0 else str(self.pool_size + self.max_overflow)
        needed = "unbounded" if self.needed is None else f"{self.needed}"
        lines = [
            f"server: max_connections {limits.max_connections} - {limits.reserved_connections} "
            f"reserved = {limits.available} available to the application",
            f"target: {self.workers} worker(s) x (pool_size {self.pool_size} + max_overflow "
            f"{self.max_overflow}) = {self.workers} x {per} = {needed} connections",
        ]
        if self.headroom is None:
            lines.append("warning: max_overflow -1 is unbounded: no limit protects the server")
        elif self.headroom < 0:
            lines.append(
                f"warning: {-self.headroom} connections beyond what the server allows; at "
                f"{self.workers} worker(s) pool_size may be at most {self.largest_pool_size}"
            )
        else:
            lines.append(
                f"headroom: {self.headroom} connections left for other clients "
                f"(up to pool_size {self.largest_pool_size} fits at {self.workers} worker(s))"
            )
        return lines


@dataclass(frozen=True)
class SweepAnalysis:
    record: SweepRecord
    points: list[Point]
    tolerance: float  # a share of the best req/s
    tolerance_source: str  # how the tolerance was chosen
    knees: list[Knee]
    recommended: int | None
    reason: str
    arithmetic: Arithmetic | None  # None: the server was not reached

    def point(self, pool_size: int, users: int) -> Point | None:
        return next((p for p in self.points if (p.pool_size, p.users) == (pool_size, users)), None)


def _wait_figures(cell: CellResult) -> tuple[float, float] | None:
    """(p99 checkout wait in ms, share of request time spent waiting) of one repeat."""
    final = cell.diagnostics.final if cell.diagnostics else None
    if final is None or cell.load is None or not final.pool.checkout_wait_ms:
        return None
    waits = final.pool.checkout_wait_ms
    buckets = np.repeat(np.array(list(waits), dtype=float), list(waits.values()))
    # Buckets are whole milliseconds, rounded down: half a millisecond on average.
    waited = sum((ms + 0.5) * n for ms, n in waits.items())
    latency = sum(ms * n for route in cell.load.routes for ms, n in route.histogram_ms.items())
    share = waited / latency if latency else 0.0
    return float(np.quantile(buckets, 0.99, method="inverted_cdf")), share


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _point(summary: CellSummary) -> Point:
    config = summary.config
    waits = [w for cell in summary.repeats if (w := _wait_figures(cell)) is not None]
    peaks = [
        max(s.server_connections for s in samples if s.server_connections is not None)
        for cell in summary.repeats
        if cell.diagnostics
        and (samples := [s for s in cell.diagnostics.samples if s.server_connections is not None])
    ]
    p99, bound = load_figures.median_latency(summary, "p99")
    return Point(
        pool_size=config.pool.pool_size, users=config.users, summary=summary,
        rps=summary.median("rps"), error_rate=load_figures.error_rate(summary),
        p99_ms=p99, p99_lower_bound=bound,
        wait_p99_ms=_median([w[0] for w in waits]), wait_share=_median([w[1] for w in waits]),
        server_connections=max(peaks) if peaks else None,
    )  # fmt: skip


def _tolerance(points: list[Point], fixed: float) -> tuple[float, str]:
    throughputs = [
        [c.load.requests_per_s for c in p.summary.repeats if c.load] for p in points if p.clean
    ]
    spread = stats.log_spread(throughputs)
    if spread is None:
        return fixed, f"{fixed:.0%} of the best (fixed: no repeats to measure the noise)"
    tolerance = NOISE_SPREADS * spread
    return tolerance, (
        f"{tolerance:.1%} of the best ({NOISE_SPREADS:g} x the {spread:.1%} spread "
        "measured between repeats)"
    )


def _shortfall(point: Point, best_rps: float, tolerance: float, max_wait: float) -> str | None:
    """Why a clean point is not the knee; None when it qualifies."""
    rps = point.rps or 0.0
    if rps < best_rps * (1 - tolerance):
        return f"pool_size {point.pool_size} was {1 - rps / best_rps:.0%} below the best"
    if point.wait_share is not None and point.wait_share >= max_wait:
        return (
            f"at pool_size {point.pool_size} requests waited {point.wait_share:.0%} of "
            "their time for a connection"
        )
    return None


def _knee(users: int, points: list[Point], tolerance: float, max_wait: float) -> Knee:
    clean = sorted((p for p in points if p.clean), key=lambda p: p.pool_size)
    if not clean:
        return Knee(users, None, None, "every pool size failed requests: none recommended")
    best = max(clean, key=lambda p: p.rps or 0.0)
    best_rps = best.rps or 0.0
    failed = sorted(p.pool_size for p in points if not p.clean)
    shortfalls: list[str] = []
    for point in clean:
        if (shortfall := _shortfall(point, best_rps, tolerance, max_wait)) is not None:
            shortfalls.append(shortfall)
            continue
        why = f"{point.rps:,.0f} req/s, " + (
            "the best of this level"
            if point is best
            else f"within {tolerance:.0%} of the best ({best_rps:,.0f} at pool_size "
            f"{best.pool_size})"
        )
        if point.wait_share is not None:
            why += f", requests waited {point.wait_share:.1%} of their time for a connection"
        why += "".join(f"; {s}" for s in shortfalls[-1:])  # the next smaller size's reason
        if failed:
            why += f"; pool sizes {', '.join(map(str, failed))} failed requests"
        return Knee(users, point.pool_size, best_rps, why)
    return Knee(
        users, None, best_rps,
        f"no pool size within {tolerance:.0%} of the best kept the checkout wait under "
        f"{max_wait:.0%} of request time: measure larger pools",
    )  # fmt: skip


def analyse(result: RunResult) -> SweepAnalysis | None:
    """The sweep's figures and recommendation; None for a run that is not a sweep."""
    record = result.sweep
    if record is None:
        return None
    points = [
        _point(s)
        for s in summarise(result)
        if s.config.strategy == record.strategy
        and s.config.pool.pool_size in record.pool_sizes
        and s.config.users in record.users
    ]
    points.sort(key=lambda p: (p.users, p.pool_size))
    tolerance, source = _tolerance(points, record.fixed_tolerance)
    knees = [
        _knee(users, [p for p in points if p.users == users], tolerance, record.max_wait_share)
        for users in sorted({p.users for p in points})
    ]
    chosen = [k for k in knees if k.pool_size is not None]
    recommended = max((k.pool_size for k in chosen if k.pool_size), default=None)
    if recommended is None:
        reason = "no pool size qualified at any users level"
    else:
        top = max(k.users for k in chosen if k.pool_size == recommended)
        per_level = ", ".join(f"{k.users} users: {k.pool_size or '-'}" for k in knees)
        reason = f"the knee at {top} users, the largest of the levels' knees ({per_level})"
        short = [str(k.users) for k in knees if k.pool_size is None]
        if short:
            reason += f"; at {', '.join(short)} users no pool size measured qualified"
    # Without a recommendation, the arithmetic still shows where the largest pool swept
    # stands against the server.
    arithmetic = (
        Arithmetic(
            record.target_workers,
            recommended or max(record.pool_sizes),
            record.max_overflow,
            record.server,
        )
        if record.server is not None
        else None
    )
    return SweepAnalysis(record, points, tolerance, source, knees, recommended, reason, arithmetic)


def point_of(cell: CellResult) -> Point:
    """One measured cell as a point (the progress line while a sweep runs)."""
    errors = [cell.error or "unknown error"] if cell.status == "error" else []
    return _point(CellSummary(cell.config, [cell], cell.findings, errors))
