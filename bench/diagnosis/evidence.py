"""What the rules read: one cell's saved measurements, typed, and nothing else.

Built from a `CellResult` (a fresh one or one loaded from `results.json`), so diagnosing
is a pure function of what was saved.  Without a load result (an in-process check, say)
the window is the probes' uptime and the requests are the ones the app saw.
"""

from dataclasses import dataclass, field

from sessionbench.reading import PoolReading, ProbeReading, Site
from sessionbench.results import (
    CellResult,
    DatabaseChecks,
    Diagnostics,
    FailureKind,
    FaultResult,
    ServerAfter,
    Stall,
)
from sessionbench.targets.config import PoolSettings

from .thresholds import Limits

# Database kinds whose app connects through a transaction-mode pooler.
TRANSACTION_POOLERS = {"pgbouncer": "PgBouncer (pool_mode=transaction)"}


@dataclass(frozen=True)
class CellEvidence:
    pool_settings: PoolSettings | None  # None: the app's own pool, not known to the harness
    final: ProbeReading  # after quiesce and a full GC
    diagnostics: Diagnostics
    window_s: float  # the load window
    requests: int  # sent during the window (unfinished included)
    failures: int = 0  # failed answers and unfinished requests
    failures_by_kind: list[FailureKind] = field(default_factory=list)
    health_p99_ms: float | None = None  # GET /health beside the database routes
    checks: DatabaseChecks | None = None
    aborted: int = 0  # requests the clients abandoned on purpose (the abort fault)
    fault: FaultResult | None = None  # a scenario's server-side fault, and the recovery
    limits: Limits = field(default_factory=Limits)
    pooler: str | None = None  # the transaction-mode pooler between app and server, if any

    @classmethod
    def of(cls, cell: CellResult) -> "CellEvidence | None":
        """None when the cell has no final reading to diagnose (probes off, or the
        target stopped answering)."""
        diagnostics = cell.diagnostics
        if diagnostics is None or diagnostics.final is None:
            return None
        load = cell.load
        health = next((r for r in load.routes if r.name == "/health"), None) if load else None
        return cls(
            pool_settings=cell.config.pool,
            final=diagnostics.final,
            diagnostics=diagnostics,
            window_s=load.duration_s if load else diagnostics.final.uptime_s,
            requests=load.requests if load else diagnostics.final.requests.started,
            failures=load.failures if load else 0,
            failures_by_kind=load.failures_by_kind if load else [],
            health_p99_ms=health.p99_ms if health else None,
            checks=cell.checks,
            aborted=sum(a.occurrences for a in load.aborted) if load else 0,
            pooler=TRANSACTION_POOLERS.get(cell.config.database),
            fault=load.fault if load else None,
        )

    @property
    def pool(self) -> PoolReading:
        return self.final.pool

    @property
    def capacity(self) -> int | None:
        return self.pool_settings.capacity if self.pool_settings else None

    @property
    def in_flight(self) -> int:
        """Requests still running at the final reading: what they hold is not leaked."""
        return self.final.requests.in_flight

    @property
    def server_after(self) -> ServerAfter | None:
        return self.diagnostics.server_after

    @property
    def stalls(self) -> list[Stall]:
        return self.diagnostics.stalls

    def app_location(self, stall: Stall) -> str:
        """The app's innermost frame in the stall's stack."""
        stack = self.diagnostics.stack_of(stall)
        if stall.app_frame is not None and stall.app_frame < len(stack):
            return stack[stall.app_frame]
        return stack[-1] if stack else "(stack not captured)"


def where(sites: list[Site]) -> str:
    """The most frequent site, as "GET /items/{id} at app/db.py:12 in get_db"."""
    if not sites:
        return "(not attributed)"
    top = max(sites, key=lambda site: site.count)
    route = top.route or "outside any request"
    return f"{route} at {top.location}" if top.location else route
