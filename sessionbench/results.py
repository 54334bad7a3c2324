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
      Also: `config.app` names a user's own app and how it was run, `config.rate` the
      open model's arrivals, `config.version_set` and `config.packages` the target's
      environment, `config.added_error_rate`; `load.client_errors` counts 4xx answers to
      generated requests apart; `diagnostics.app_errors` lists the exceptions that
      escaped a user's app; the run's `matrix` (identity of the whole matrix), `shard`
      and `shards` (merged shards, each with its environment), the cell's `shard`, the
      load's `workers`, `worker_cpu_percent` and `worker_requests`; the run's `sweep`
      (a pool-sizing sweep's grid, rules and the server's connection limits);
      `load.fault`, a server-side fault injected during load and the recovery from it;
      `load.target_cpu_s`, the target's CPU over the load; `config.target_workers`
      (uvicorn worker processes of the target) and `config.server_max_connections`,
      `diagnostics.workers` (each target worker's final reading) and `stall.worker`.
Older files load through the `update_to_N` steps in `resultfile.py`.
"""

import math
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sessionbench.targets.config import PoolSettings

from .app_info import AppError, EngineInfo
from .reading import ProbeReading, StallCause
from .sweep_record import SweepRecord

SCHEMA_VERSION = 3
# A Locust process kept at or below this share of a core keeps headroom under the 90 %
# at which Locust warns and the harness calls the generator saturated.
GENERATOR_CPU_BUDGET_PERCENT = 75.0


class Environment(BaseModel):
    """What must match before two results are compared."""

    python: str
    platform: str
    cpu_count: int
    sessionbench: str
    git_commit: str | None
    packages: dict[str, str]  # distribution -> version (fastapi, sqlalchemy, drivers, ...)
    database_servers: dict[str, str] = Field(default_factory=dict)  # database -> version


class AppRun(BaseModel):
    """A user's own app as a cell's target (`run --app`): what ran and how it was driven."""

    import_string: str  # MODULE:ATTR, as uvicorn takes it
    url_env: str  # the environment variable the app reads its database URL from
    schema_from: str  # "alembic PATH", "metadata MODULE:ATTR" or "the app"
    load: str  # "locustfile PATH", "requests file NAME" or "OpenAPI schema"
    skipped_operations: list[str] = Field(default_factory=list)  # "GET /x: why"
    engines: list[EngineInfo] = Field(default_factory=list)  # the app's first engines' pools
    engines_seen: int = 0
    probes: bool = True


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
    # Open model: arrivals per second, one value per equal step of the run (`--rate`);
    # empty for the closed model, where `users` run back to back.  Open: `users` is the
    # pool of users taking arrivals.
    rate: list[float] = Field(default_factory=list)
    app: AppRun | None = None  # set when the target is the user's own app
    added_error_rate: float = 0.0  # share of requests the target fails on purpose (the same)
    # The version set the target ran under (`run --with`; "" for sessionbench's own
    # environment) and the versions of the session packages in the target's environment.
    version_set: str = ""
    packages: dict[str, str] = Field(default_factory=dict)
    # Target processes sharing the port (`run --target-workers N`), each with its own
    # pool; and the connections the database server allows a non-superuser (Postgres:
    # max_connections less the reserved ones; None where it was not read).
    target_workers: int = 1
    server_max_connections: int | None = None


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
    # Completed requests: response time (ms, rounded as Locust rounds; open model: whole
    # ms from the intended start) -> count.  Unfinished ones are not in it.
    histogram_ms: dict[int, int]
    unfinished: int = 0  # among `requests` and `failures`
    censored: list[str] = Field(default_factory=list)  # percentiles that are lower bounds


class FailureKind(BaseModel):
    method: str
    name: str
    error: str
    occurrences: int


class ClientError(BaseModel):
    """4xx answers to generated requests: the generator guessed wrong, the app did not fail."""

    method: str
    name: str
    status: int
    occurrences: int


class FaultFailure(BaseModel):
    """A request that failed from the fault's hit on: when it started and ended (seconds
    since the load window started) and its cause, as the load generator saw it."""

    start_s: float
    end_s: float
    error: str


class FaultResult(BaseModel):
    """A server-side fault injected during load (scenario data), and the recovery from it.

    Times are seconds since the load window started.  Recovered: the first time bin
    from which every bin of the next `recovery_window_s` answered at least
    `recovered_share` of the pre-fault median throughput and failed nothing.
    """

    kind: str  # terminate, restart, idle-timeout
    injected_at_s: float | None  # None: the fault could not be injected (see `note`)
    hit_at_s: float  # when it reached the clients (idle-timeout: when their pause ended)
    took_s: float = 0.0  # the injection itself (a restart: stop and start)
    pause_s: float = 0.0  # the clients' pause around it (none: it hit connections in use)
    # From then on the server had closed the target's connections (the terminate returned,
    # the restart began, the idle timeout ran out): a request begun later that lost its
    # connection was handed a dead one by the pool, rather than losing it mid-query.
    dead_from_s: float | None = None
    affected: int = 0  # server connections terminated (terminate)
    baseline_per_s: float = 0.0  # median successes per second before the fault
    recovered_at_s: float | None = None  # None: not recovered within the window
    time_to_recover_s: float | None = None  # recovered_at_s - hit_at_s
    failed: int = 0  # requests that failed from the hit until recovered (or the end)
    failures: list[FaultFailure] = Field(default_factory=list)  # from the hit on (capped)
    bin_s: float = 0.25
    ok_per_bin: list[int] = Field(default_factory=list)  # successes per time bin, the window
    failed_per_bin: list[int] = Field(default_factory=list)
    recovered_share: float = 0.0
    recovery_window_s: float = 0.0
    note: str = ""


class LoadResult(BaseModel):
    """What the load generator saw, over the load window that was configured.

    `requests` counts every request sent, `unfinished` those still in flight when load
    stopped (killed unanswered; counted among `failures` as kind "unfinished"); their
    elapsed times are lower bounds of their latency, so a percentile they reach is
    listed in `censored` and shown as ">= x".  Open model only: `arrivals` were due in
    the window, `dropped_arrivals` of them were never sent (no user was free in time;
    a failure kind of their own, their wait a lower bound in the percentiles).
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
    generator_cpu_percent: float  # of one core, averaged over the run (busiest worker)
    generator_saturated: bool
    # Open model (all 0 for the closed one): per second of the window, arrivals due and
    # arrivals started; started at least `late_after_ms` after their intended time, and
    # by how much (median and max of those); never sent.
    intended_rate: float = 0.0
    achieved_rate: float = 0.0
    arrivals: int = 0
    late_arrivals: int = 0
    late_after_ms: float = 0.0
    late_by_p50_ms: float = 0.0
    late_by_max_ms: float = 0.0
    dropped_arrivals: int = 0
    lateness_histogram_ms: dict[int, int] = Field(default_factory=dict)  # every started arrival
    client_errors: list[ClientError] = Field(default_factory=list)  # not among `failures`
    # Requests their client abandoned on purpose (a scenario's `abort` fault), per route:
    # not among `requests` nor `failures`.
    aborted: list[FailureKind] = Field(default_factory=list)
    # Locust's distributed mode (`run --workers N`): how many workers sent the load (0:
    # one Locust process did), and each local worker's CPU (% of one core) and requests.
    workers: int = 0
    worker_cpu_percent: list[float] = Field(default_factory=list)
    worker_requests: list[int] = Field(default_factory=list)
    # CPU seconds (user + system) the target's processes used from load start to stop:
    # what a request costs the app, which the machine's noise moves far less than req/s.
    # None where the target is not a child of the harness (`--target-url`).
    target_cpu_s: float | None = None

    @property
    def target_cpu_ms_per_request(self) -> float | None:
        if self.target_cpu_s is None or not self.requests:
            return None
        return self.target_cpu_s * 1000 / self.requests

    fault: FaultResult | None = None  # a scenario's server-side fault, and the recovery

    @property
    def workers_needed(self) -> int:
        """Locust workers that would have kept each within the CPU budget.  A saturated
        generator sent less than it was asked to, so then at least one more than it had."""
        cpu = self.worker_cpu_percent or [self.generator_cpu_percent]
        needed = math.ceil(sum(cpu) / GENERATOR_CPU_BUDGET_PERCENT)
        return max(needed, len(cpu) + 1) if self.generator_saturated else max(needed, 1)

    @property
    def error_rate(self) -> float:
        """Failed, unfinished or dropped among all requests and dropped arrivals
        (GET /fail's 500 is a success)."""
        attempts = self.requests + self.dropped_arrivals
        return (self.failures + self.dropped_arrivals) / attempts if attempts else 0.0


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
    worker: int | None = None  # pid of the target worker whose loop stalled (several workers)


class WorkerReading(BaseModel):
    """One target worker process's own final reading (`run --target-workers N`)."""

    pid: int
    reading: ProbeReading
    server_connections: int | None = None  # its connections in pg_stat_activity (Postgres)


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
    app_errors: list[AppError] = Field(default_factory=list)  # escaped a user's app
    # Several target workers: each one's final reading; `final` is then their sum.
    workers: list[WorkerReading] = Field(default_factory=list)

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


class Shard(BaseModel):
    """One part of a matrix split with `run --shard INDEX/COUNT` (INDEX counts from 1)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


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
    shard: int | None = None  # the shard (its index) that measured the cell, if sharded


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


class ShardRun(BaseModel):
    """One shard's own run, kept in a merged result: when and where it measured."""

    shard: Shard
    started_at: datetime
    finished_at: datetime | None = None
    command: list[str]
    environment: Environment
    interrupted: bool = False


class SkippedCell(BaseModel):
    """A cell its version set cannot run: the set did not resolve, install or import, or
    the target needs what the set lacks (e.g. `Depends(scope=...)`)."""

    id: str
    version_set: str
    reason: str


class RunResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    started_at: datetime
    finished_at: datetime | None = None
    command: list[str]
    environment: Environment
    cells: list[CellResult] = Field(default_factory=list)
    skipped: list[SkippedDatabase] = Field(default_factory=list)
    skipped_cells: list[SkippedCell] = Field(default_factory=list)
    interrupted: bool = False
    micro: list[MicroBenchmark] = Field(default_factory=list)
    # Identity of the whole matrix (cells and settings, before any split): shards of one
    # matrix share it, and `merge` refuses files that do not.
    matrix: str | None = None
    shard: Shard | None = None  # this run measured one shard of the matrix
    # A merged result: the shards it holds, each with its own environment; `environment`
    # above is then the first shard's, with every shard's database servers.
    shards: list[ShardRun] = Field(default_factory=list)
    sweep: SweepRecord | None = None  # set by `sessionbench sweep`: its cells are the points

    def write(self, path: Path) -> None:
        """Atomic: a reader never sees half a file, even if the run is killed mid-write."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)
