"""What the probes report from inside a target: one typed reading, shared by both sides.

The probes build a `ProbeReading` in the app's process and serve it as JSON at
`GET /_sessionbench/probe`; the harness parses the same model back, keeps the final
reading whole in `results.json` and diagnoses from it, so a saved result can be
diagnosed again with new rules.  Only pydantic here: the app under test imports it.

Stalls are served incrementally: a poll with `?since=N` gets the stalls numbered N and
later, and `next_stall` to ask for next time, so a poll costs the same at minute 1 and
minute 10.  Counters are never capped; only the probe's buffer of stall details is.
"""

from typing import Literal

from pydantic import BaseModel, Field

StallCause = Literal["code", "gc", "other"]  # other: no Python code on the loop (GIL, CPU)


class Site(BaseModel):
    """Where something happened: the request that did it and the app's own line."""

    route: str | None = None  # "GET /items/{id}": method and route template; None: no request
    location: str | None = None  # the app's innermost frame, "app/db.py:12 in get_db"
    count: int = 1


class LagReading(BaseModel):
    """Lateness of the loop's periodic timer."""

    max_ms: float = 0.0
    window_max_ms: float = 0.0  # worst since the previous poll
    p99_ms: float = 0.0
    total_ms: float = 0.0  # summed lateness above the noise floor
    ticks: int = 0
    histogram: dict[int, int] = Field(default_factory=dict)  # whole ms -> ticks


class StallReading(BaseModel):
    """A time the loop's timer fired late by at least the stall threshold."""

    seq: int  # numbered from 0 in order of occurrence
    at_s: float  # since the probes started
    duration_ms: float
    cause: StallCause
    stack: list[str] = Field(default_factory=list)  # "file:line in function", innermost last
    app_frame: int | None = None  # index in `stack` of the innermost frame of the app's code
    route: str | None = None  # the request the loop was serving; None: outside any request


class StallTotals(BaseModel):
    """Every stall counted by cause: never capped, unlike the buffer of stall details."""

    count: dict[str, int] = Field(default_factory=dict)
    total_ms: dict[str, float] = Field(default_factory=dict)
    max_ms: dict[str, float] = Field(default_factory=dict)
    app_count: int = 0  # cause "code" with the app's own code on the stack
    app_total_ms: float = 0.0
    app_max_ms: float = 0.0


class HeldReading(BaseModel):
    """Where the loop's time went while it was held: its timer overdue by more than the
    watchdog's period, so the loop was inside a callback and served nobody else.

    Sampled by the watchdog every few ms.  `waiting`: the loop thread was off the CPU
    (blocked in a system call, a lock, the GIL) for most of the sample; `running`: on it.
    `app_waiting_ms` is time the loop waited inside the app's own code: a sync database
    call in an `async def` route, typically.
    """

    sampled_ms: float = 0.0  # time covered by the watchdog's samples
    app_waiting_ms: float = 0.0
    app_running_ms: float = 0.0
    other_waiting_ms: float = 0.0  # held, no app code on the stack (framework, GIL)
    other_running_ms: float = 0.0
    gc_ms: float = 0.0
    # innermost app frame -> ms the loop waited there (a bounded set of frames)
    app_waiting_frames: dict[str, float] = Field(default_factory=dict)
    # route -> ms the loop waited in the app's code serving it ("" outside any request)
    app_waiting_routes: dict[str, float] = Field(default_factory=dict)


class LoopCallsReading(BaseModel):
    """Sync driver calls made on a thread that runs an event loop: each holds the loop
    for a round trip to the server, however short, so none is too fast to count."""

    calls: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    sites: list[Site] = Field(default_factory=list)


class LoopReading(BaseModel):
    lag: LagReading = Field(default_factory=LagReading)
    stalls: StallTotals = Field(default_factory=StallTotals)
    held: HeldReading = Field(default_factory=HeldReading)
    sync_driver_calls: LoopCallsReading = Field(default_factory=LoopCallsReading)


class GcReading(BaseModel):
    collections: int = 0
    pause_total_ms: float = 0.0
    pause_max_ms: float = 0.0


class HoldReading(BaseModel):
    """How long one route's requests kept a pool connection, checkout to checkin."""

    checkins: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    histogram: dict[int, int] = Field(default_factory=dict)  # whole ms -> checkins


class PoolReading(BaseModel):
    """SQLAlchemy pool, engine and session events, over every engine the app built."""

    connections_opened: int = 0
    connections_closed: int = 0
    checkouts: int = 0
    checked_out: int = 0
    checked_out_max: int = 0
    overflow: int = 0
    overflow_max: int = 0
    pool_timeouts: int = 0
    invalidations: int = 0
    checkout_wait_ms: dict[int, int] = Field(default_factory=dict)  # whole ms -> checkouts
    engines_connected: int = 0  # pools that made a first connection: engines in use
    pools_alive: int = 0
    sessions_begun: int = 0
    sessions_alive: int = 0
    sessions_in_transaction: int = 0
    scoped_registry: int | None = None  # None: no registry watched
    gc_cleaned_connections: int = 0
    # Attribution: which route and which line of the app.
    checked_out_at: list[Site] = Field(default_factory=list)  # connections still out
    sessions_alive_at: list[Site] = Field(default_factory=list)  # where each last began
    sessions_in_transaction_at: list[Site] = Field(default_factory=list)
    gc_cleaned_at: list[Site] = Field(default_factory=list)  # sessions the GC closed
    # Connections invalidated because a cancellation (a client that hung up) cut their
    # session's or connection's close() short: discarded instead of returned.
    cancelled_closes: int = 0
    cancelled_closes_at: list[Site] = Field(default_factory=list)
    # Transactions still open when the request that began them had ended.
    idle_after_request: int = 0
    idle_after_request_at: list[Site] = Field(default_factory=list)
    # Pools first connected by a request and never used by another: an engine per request.
    engines_in_requests_at: list[Site] = Field(default_factory=list)
    hold_by_route: dict[str, HoldReading] = Field(default_factory=dict)  # "" outside requests


class ThreadpoolReading(BaseModel):
    borrowed: int = 0
    borrowed_max: int = 0
    total: int = 0
    saturated_share: float = 0.0


class CommitReading(BaseModel):
    commits: int = 0
    commits_after_response: int = 0
    # after the response, but from a task the app handed to BackgroundTasks on purpose
    background_commits_after_response: int = 0
    after_response_at: list[Site] = Field(default_factory=list)


class RequestReading(BaseModel):
    """Requests the app has seen (the probe's own polls not counted)."""

    started: int = 0
    in_flight: int = 0


class ProbeReading(BaseModel):
    uptime_s: float = 0.0
    final: bool = False  # taken after a full garbage collection
    loop: LoopReading = Field(default_factory=LoopReading)
    stalls: list[StallReading] = Field(default_factory=list)  # from `?since=` on
    next_stall: int = 0
    gc: GcReading = Field(default_factory=GcReading)
    pool: PoolReading = Field(default_factory=PoolReading)
    threadpool: ThreadpoolReading = Field(default_factory=ThreadpoolReading)
    commits: CommitReading = Field(default_factory=CommitReading)
    requests: RequestReading = Field(default_factory=RequestReading)
