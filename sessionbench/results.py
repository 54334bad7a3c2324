"""The result schema written to `results.json`, versioned separately from the package.

Format history (bump SCHEMA_VERSION and add a line for every change):
  1 - first version: environment fingerprint, cells with load results and histograms.
  2 - cells carry `repeat` (repetitions of one cell share `config.id`) and
      `config.added_delay_ms`; the run carries `micro` (pytest-benchmark summaries).
  3 - `diagnostics.final` is the probes' whole final reading (`reading.ProbeReading`),
      stalls point into `diagnostics.stacks` and name the app's frame, and
      `diagnostics` keeps the quiesce, the server's view and missed stalls, so a saved
      cell can be diagnosed again; findings carry `decided` (figure, threshold,
      borderline); the load counts unfinished requests, censored percentiles and its
      latency model over the configured window.
Older files load through the `update_to_N` steps in `resultfile.py`.
"""

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sessionbench.targets.config import PoolSettings

from .reading import ProbeReading, StallCause

SCHEMA_VERSION = 3


class Environment(BaseModel):
    """What must match before two results are compared."""

    python: str
    platform: str
    cpu_count: int
    sessionbench: str
    git_commit: str | None
    packages: dict[str, str]  # distribution -> version (fastapi, sqlalchemy, drivers, ...)
    database_servers: dict[str, str] = Field(default_factory=dict)  # database -> version


class CellConfig(BaseModel):
    id: str
    strategy: str
    database: str
    driver: str
    database_url: str  # masked: never holds a password
    pool: PoolSettings
    scenario: str
    users: int
    duration_s: float
    tasks: dict[str, int]
    slow_ms: int
    added_delay_ms: float = 0.0  # CPU time the target adds per request (gate calibration)


class RouteStats(BaseModel):
    method: str
    name: str
    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # Locust's raw histogram: response time (ms, rounded as Locust rounds) -> count.
    histogram_ms: dict[int, int]


class FailureKind(BaseModel):
    method: str
    name: str
    error: str
    occurrences: int


class LoadResult(BaseModel):
    """What the load generator saw, over the load window that was configured.

    `requests` counts every request sent, `unfinished` those still in flight when load
    stopped (killed unanswered; counted among `failures` as kind "unfinished"); their
    elapsed times are lower bounds of their latency, so a percentile they reach is
    listed in `censored` and shown as ">= x".
    """

    # closed: each user waits for its answer; open: arrivals at `--rate`, latency from
    # the intended start (coordinated omission corrected).
    latency_model: Literal["closed", "open"] = "closed"
    duration_s: float  # the load window: users spawned to stop
    requests: int
    failures: int
    requests_per_s: float  # answers (any status) per second of the window
    unfinished: int = 0
    unfinished_elapsed_ms: list[float] = Field(default_factory=list)
    censored: list[str] = Field(default_factory=list)  # e.g. ["p99", "max"]: lower bounds
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    routes: list[RouteStats]
    failures_by_kind: list[FailureKind]
    generator_cpu_percent: float  # of one core, averaged over the run
    generator_saturated: bool

    @property
    def error_rate(self) -> float:
        """Failed or unfinished requests among all sent (GET /fail's 500 is a success)."""
        return self.failures / self.requests if self.requests else 0.0


class DatabaseChecks(BaseModel):
    """Read from the database after load stopped."""

    failed_writes_committed: int  # rows GET /fail wrote; > 0 means no rollback
    acknowledged_writes: int = 0  # POST /items answered 200 (ids the clients were given)
    missing_writes: int = 0  # of those, ids not in the table
    read_your_write_probes: int = 0  # POST then an immediate GET on another connection
    read_your_write_misses: int = 0  # GETs that did not find the row just written


class Decision(BaseModel):
    """The figure that decided a finding, against its threshold."""

    figure: str  # an evidence key
    value: float
    threshold: float
    borderline: bool = False  # so close to the threshold that a repeat may not agree

    @property
    def margin(self) -> float:
        """How far past its threshold, as a fraction of it (0.5: 50 % beyond)."""
        return self.value / self.threshold - 1 if self.threshold else float("inf")


class Finding(BaseModel):
    """One diagnosis of a cell, with the figures that prove it."""

    kind: str  # e.g. event-loop-blocking, pool-exhaustion, connection-leak, lost-write
    severity: Literal["info", "warning", "error"]
    summary: str  # one line, with the decisive figures
    evidence: dict[str, float | int | str]
    explanation: str  # what is going on, in plain words
    hint: str  # how to fix it
    decided: Decision | None = None


class Sample(BaseModel):
    """Probe readings taken by the harness during the run (one time-series point)."""

    t_s: float  # seconds since load started
    loop_lag_max_ms: float  # worst timer lateness since the previous sample
    pool_checked_out: int
    pool_overflow: int
    connections_opened: int  # cumulative since start
    sessions_open: int
    threadpool_borrowed: int
    server_connections: int | None = None  # pg_stat_activity, Postgres only
    idle_in_transaction: int | None = None


class Stall(BaseModel):
    """A time the event loop did not run, and what it was doing."""

    at_s: float  # since the target's probes started
    duration_ms: float
    cause: StallCause
    stack: int | None = None  # index into `Diagnostics.stacks`; None for GC and "other"
    app_frame: int | None = None  # index in that stack of the app's innermost frame
    route: str | None = None  # the request the loop was serving ("GET /items/{id}")


class ServerAfter(BaseModel):
    """The database server's view of the target's connections after quiesce (Postgres)."""

    server_connections: int
    idle_in_transaction: int


class Diagnostics(BaseModel):
    """Everything the rules read, kept raw so a saved cell can be diagnosed again."""

    samples: list[Sample] = Field(default_factory=list)
    # The probes' reading after quiesce and a full GC (its stall details are in `stalls`).
    final: ProbeReading | None = None
    stalls: list[Stall] = Field(default_factory=list)  # every stall the harness fetched
    stacks: list[list[str]] = Field(default_factory=list)  # distinct stacks of the stalls
    stalls_missed: int = 0  # stall details the probe's buffer dropped before a poll
    quiesce_s: float = 0.0  # waited after load for requests in flight to finish
    server_after: ServerAfter | None = None
    idle_in_transaction_max_age_s: float = 0.0  # oldest seen during the run (Postgres)

    def stack_of(self, stall: Stall) -> list[str]:
        return self.stacks[stall.stack] if stall.stack is not None else []

    @property
    def loop_lag_max_ms(self) -> float:
        return self.final.loop.lag.max_ms if self.final else 0.0

    @property
    def loop_lag_p99_ms(self) -> float:
        return self.final.loop.lag.p99_ms if self.final else 0.0

    @property
    def loop_lag_total_ms(self) -> float:
        return self.final.loop.lag.total_ms if self.final else 0.0


class CellResult(BaseModel):
    config: CellConfig
    status: Literal["ok", "error"]
    error: str | None = None
    load: LoadResult | None = None
    checks: DatabaseChecks | None = None
    diagnostics: Diagnostics | None = None
    findings: list[Finding] = Field(default_factory=list)
    expected_findings: list[str] = Field(default_factory=list)  # from the strategy
    started_at: datetime
    wall_s: float
    repeat: int = 0  # which repetition of the cell (`run --repeat N`); 0 for the first


class MicroBenchmark(BaseModel):
    """One pytest-benchmark result from `sessionbench micro` (seconds per call)."""

    name: str
    group: str
    database: str
    median_s: float
    iqr_s: float
    mean_s: float
    stddev_s: float
    rounds: int


class SkippedDatabase(BaseModel):
    database: str
    reason: str


class RunResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    started_at: datetime
    finished_at: datetime | None = None
    command: list[str]
    environment: Environment
    cells: list[CellResult] = Field(default_factory=list)
    skipped: list[SkippedDatabase] = Field(default_factory=list)
    interrupted: bool = False
    micro: list[MicroBenchmark] = Field(default_factory=list)

    def write(self, path: Path) -> None:
        """Atomic: a reader never sees half a file, even if the run is killed mid-write."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)
