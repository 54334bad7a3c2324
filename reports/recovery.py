"""The recovery table every writer shows: fault x pool variant, side by side.

One row per cell with a fault, ordered so a fault's pool variants on one strategy and
database sit next to each other: failed requests during the fault, those handed a dead
connection, the time to recover and the cell's throughput (pre-ping's round trip per
checkout shows there against the default pool).  Medians over repeats.
"""

import statistics
from dataclasses import dataclass

from sessionbench.results import FaultResult

from .load_figures import loads
from .summary import CellSummary, format_number

HEADERS = (
    "fault", "strategy", "database", "pool", "failed during fault", "dead connection handed out",
    "time to recover s", "req/s",
)  # fmt: skip


@dataclass(frozen=True)
class RecoveryRow:
    fault: str
    strategy: str
    database: str
    pool: str
    failed: str
    stale: str
    time_to_recover_s: str
    requests_per_s: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.fault, self.strategy, self.database, self.pool, self.failed, self.stale,
            self.time_to_recover_s, self.requests_per_s,
        )  # fmt: skip


def _median(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f}" if values else "-"


def _recovered(faults: list[FaultResult]) -> str:
    """A repeat that never recovered makes the median unknown past the window: say so."""
    times = [f.time_to_recover_s for f in faults]
    if any(t is None for t in times):
        return f"not recovered ({sum(t is None for t in times)} of {len(times)})"
    return _median([float(t) for t in times if t is not None], digits=2)


def _stale(summary: CellSummary) -> str:
    """Requests handed a dead connection, as the stale-connections verdict counted them."""
    found = [f for f in summary.findings if f.kind == "stale-connections"]
    return str(found[0].evidence["stale_checkouts"]) if found else "0"


def _row(summary: CellSummary, faults: list[FaultResult]) -> RecoveryRow:
    config = summary.config
    injected = [f for f in faults if f.injected_at_s is not None]
    return RecoveryRow(
        fault=f"{config.scenario} ({faults[0].kind})",
        strategy=config.strategy,
        database=f"{config.database}+{config.driver}",
        pool=config.pool.name,
        failed=_median([f.failed for f in injected]),
        stale=_stale(summary),
        time_to_recover_s=_recovered(injected) if injected else f"not injected: {faults[0].note}",
        requests_per_s=format_number(summary.median("rps")),
    )


def recovery_rows(summaries: list[CellSummary]) -> list[RecoveryRow]:
    rows = [
        _row(s, faults)
        for s in summaries
        if (faults := [load.fault for load in loads(s) if load.fault is not None])
    ]
    return sorted(rows, key=lambda r: (r.fault, r.strategy, r.database))
