"""One rule per finding kind.  Each reads the cell's evidence and returns a finding with
the figures that prove it, or None.  Thresholds live in `thresholds.py`."""

import re
from collections.abc import Callable

from sessionbench.results import CellResult, Decision, Finding

from ..latency import percentile
from . import thresholds as t
from .evidence import CellEvidence, where
from .per_worker import per_worker
from .stale_connections import stale_connections


def decided(figure: str, value: float, threshold: float) -> Decision:
    """The deciding figure, borderline when a repeat could land on the other side."""
    margin = value / threshold - 1 if threshold else float("inf")
    return Decision(
        figure=figure,
        value=round(value, 4),
        threshold=threshold,
        borderline=margin < t.BORDERLINE_MARGIN,
    )


def event_loop_blocking(e: CellEvidence) -> Finding | None:
    # Only time with the app's own code on the stack: a stall inside the framework
    # alone (formatting an error's traceback, say) is a consequence, not the cause.
    window_ms = max(e.window_s, 1e-3) * 1000
    stalls = [s for s in e.stalls if s.app_frame is not None]
    long = [s for s in stalls if s.duration_ms >= e.limits.blocking_stall_ms]
    stalled_ms = sum(s.duration_ms for s in long)
    held = e.final.loop.held
    # Held time is counted until the final reading: a loop held past the end of load
    # reads as held for the whole window, not more.
    waiting_share = min(1.0, held.app_waiting_ms / window_ms)
    worst = max(stalls, key=lambda s: s.duration_ms, default=None)
    calls = e.final.loop.sync_driver_calls
    call_sites = [s for s in calls.sites if s.route is not None]  # while serving requests
    request_calls = sum(s.count for s in call_sites)
    # Each criterion, as (figure, value, threshold); the first one past it decides.
    criteria = [
        ("app_waiting_share", waiting_share, t.BLOCKING_WAITING_SHARE),
        ("stall_max_ms", worst.duration_ms if worst else 0.0, e.limits.blocking_single_stall_ms),
        ("stalled_share", stalled_ms / window_ms, t.BLOCKING_STALLED_SHARE),
        ("sync_driver_calls", request_calls, t.BLOCKING_SYNC_DRIVER_CALLS),
    ]
    if len(long) >= t.BLOCKING_MIN_STALLS:
        criteria.append(("stalls_per_s", len(long) / e.window_s, t.BLOCKING_STALLS_PER_S))
    passed = [c for c in criteria if c[1] >= c[2]]
    if not passed:
        return None
    figure, value, threshold = max(passed, key=lambda c: c[1] / c[2])
    routes = {r: ms for r, ms in held.app_waiting_routes.items() if r}
    if figure == "app_waiting_share" and held.app_waiting_frames:
        code = max(held.app_waiting_frames.items(), key=lambda kv: kv[1])[0]
        route = max(routes.items(), key=lambda kv: kv[1])[0] if routes else None
    elif figure == "sync_driver_calls":
        top = max(call_sites, key=lambda site: site.count)
        code, route = top.location or "(not attributed)", top.route
    else:
        code = e.app_location(worst) if worst else "(stack not captured)"
        route = worst.route if worst else None
    blocking = f"{route} at {code}" if route else code
    evidence: dict[str, float | int | str] = {
        "app_waiting_share": round(waiting_share, 3),
        "app_running_share": round(min(1.0, held.app_running_ms / window_ms), 3),
        "stalls": len(long),
        "stall_max_ms": round(worst.duration_ms, 1) if worst else 0.0,
        "stalled_ms_total": round(stalled_ms, 1),
        "sync_driver_calls": request_calls,
        "sync_driver_ms": round(calls.total_ms, 1),
        "blocking_code": code,
        "route": route or "(outside any request)",
    }
    if e.health_p99_ms is not None:
        evidence["health_p99_ms"] = e.health_p99_ms
    return Finding(
        kind="event-loop-blocking",
        severity="error",
        summary=f"event loop held by the app's code: waiting in it {waiting_share:.0%} of the "
        f"run, {len(long)} stalls up to {evidence['stall_max_ms']:.0f} ms, {request_calls} sync "
        f"driver calls on the loop, in {blocking}",
        evidence=evidence,
        explanation="Code ran on the event loop thread without yielding (a sync database call "
        "inside an async def route, typically): while it runs, no other request on this "
        "worker makes progress, including /health.",
        hint="Use AsyncSession with an async driver in async def routes, or declare the route "
        "with plain def so FastAPI runs it in its threadpool.",
        decided=decided(figure, value, threshold),
    )


def gc_pauses(e: CellEvidence) -> Finding | None:
    stalls = [s for s in e.stalls if s.cause == "gc" and s.duration_ms >= t.GC_NOTE_STALL_MS]
    if not stalls:
        return None
    worst = max(s.duration_ms for s in stalls)
    return Finding(
        kind="gc-pauses",
        severity="info",
        summary=f"{len(stalls)} loop stalls from garbage collection, up to {worst:.0f} ms "
        "(not the strategy's doing)",
        evidence={"stalls": len(stalls), "stall_max_ms": round(worst, 1)},
        explanation="Full garbage-collection passes stop every thread; in a busy app they show "
        "up as event-loop stalls unrelated to the session strategy.",
        hint="Call gc.freeze() after start-up so long-lived objects leave the collector's "
        "young generations.",
        decided=decided("stall_max_ms", worst, t.GC_NOTE_STALL_MS),
    )


def pool_exhaustion(e: CellEvidence) -> Finding | None:
    pool = e.pool
    wait_p99 = percentile(pool.checkout_wait_ms, 0.99)
    capacity = e.capacity
    at_capacity = capacity is not None and pool.checked_out_max >= capacity
    timeouts = pool.pool_timeouts
    if timeouts >= t.POOL_TIMEOUTS_MIN:
        decision = decided("pool_timeouts", timeouts, t.POOL_TIMEOUTS_MIN)
    elif at_capacity and wait_p99 >= t.POOL_WAIT_P99_MS:
        decision = decided("checkout_wait_p99_ms", wait_p99, t.POOL_WAIT_P99_MS)
    else:
        return None
    return Finding(
        kind="pool-exhaustion",
        severity="error" if timeouts else "warning",
        summary=f"pool ran out: {timeouts} checkout timeouts, checkout wait p99 {wait_p99:.0f} ms, "
        f"{pool.checked_out_max} of {capacity} connections in use",
        evidence={
            "pool_timeouts": timeouts,
            "checkout_wait_p99_ms": wait_p99,
            "checked_out_max": pool.checked_out_max,
            "capacity": capacity if capacity is not None else "unbounded",
        },
        explanation="More requests wanted a connection at once than the pool can hand out "
        "(pool_size + max_overflow); the rest waited, and past pool_timeout they failed "
        "with 'QueuePool limit ... reached'.",
        hint="Size the pool for the concurrency you accept, bound concurrency in front of the "
        "database (a semaphore or fewer workers), or shorten the time each request holds a "
        "connection.",
        decided=decision,
    )


def threadpool_starvation(e: CellEvidence) -> Finding | None:
    threads = e.final.threadpool
    capacity = e.capacity
    waiting_for_pool = capacity is not None and threads.borrowed_max > capacity
    if threads.saturated_share < t.THREADPOOL_SATURATED_SHARE or not waiting_for_pool:
        return None
    return Finding(
        kind="threadpool-starvation",
        severity="warning",
        summary=f"all {threads.total} threadpool tokens borrowed for "
        f"{threads.saturated_share:.0%} of the run, with only {capacity} pool connections",
        evidence={
            "threadpool_tokens": threads.total,
            "saturated_share": round(threads.saturated_share, 3),
            "pool_capacity": capacity if capacity is not None else "unbounded",
        },
        explanation="Sync routes run in a limited threadpool; threads beyond the pool's "
        "capacity wait for a connection while holding a token, so every other sync route "
        "and dependency queues behind them.",
        hint="Keep the threadpool limit and the pool capacity in step (anyio's default limiter "
        "has 40 tokens), or move to AsyncSession.",
        decided=decided("saturated_share", threads.saturated_share, t.THREADPOOL_SATURATED_SHARE),
    )


def connection_churn(e: CellEvidence) -> Finding | None:
    if e.pooler is not None:  # the app's connections go to the pooler, which keeps its own
        return None
    pool = e.pool
    settled = e.capacity or 1
    extra = max(0, pool.connections_opened - settled)
    rate = extra / e.window_s if e.window_s else 0.0
    per_request = extra / max(e.requests, 1)
    if rate < t.CHURN_CONNECTS_PER_S or per_request < t.CHURN_CONNECTS_PER_REQUEST:
        return None
    # Both must hold: the one closer to its threshold decides.
    decision = min(
        decided("connects_per_s", rate, t.CHURN_CONNECTS_PER_S),
        decided("connects_per_request", per_request, t.CHURN_CONNECTS_PER_REQUEST),
        key=lambda d: d.margin,
    )
    return Finding(
        kind="connection-churn",
        severity="warning",
        summary=f"{pool.connections_opened} connections opened ({rate:.0f}/s beyond filling "
        "the pool)",
        evidence={
            "connections_opened": pool.connections_opened,
            "connects_per_s": round(rate, 1),
            "connects_per_request": round(per_request, 3),
            "pool_size": e.pool_settings.pool_size if e.pool_settings else "unknown",
            "max_overflow": e.pool_settings.max_overflow if e.pool_settings else "unknown",
        },
        explanation="Connections are opened and closed again instead of being reused: overflow "
        "connections beyond pool_size close on check-in, and NullPool opens one per "
        "checkout.  Each costs a server session start (milliseconds on Postgres).",
        hint="Raise pool_size towards the usual concurrency and keep max_overflow small, or use "
        "a server-side pooler if you need NullPool.",
        decided=decision,
    )


def engine_per_request(e: CellEvidence) -> Finding | None:
    engines = e.pool.engines_connected
    sites = e.pool.engines_in_requests_at
    by_route: dict[str | None, int] = {}
    for site in sites:
        by_route[site.route] = by_route.get(site.route, 0) + site.count
    in_one_route = max(by_route.values(), default=0)
    built = max(0, engines - e.limits.engines_at_startup, in_one_route - t.LAZY_ENGINES_PER_ROUTE)
    per_request = built / max(e.requests, 1)
    if built < 1 or per_request < t.ENGINES_PER_REQUEST:
        return None
    evidence: dict[str, float | int | str] = {
        "engines_connected": engines,
        "engines_per_request": round(per_request, 3),
        "connections_opened": e.pool.connections_opened,
        "requests": e.requests,
        "built_at": where(sites),
    }
    if e.server_after is not None:
        evidence["server_connections_after"] = e.server_after.server_connections
    return Finding(
        kind="engine-per-request",
        severity="error",
        summary=f"{engines} engines (each with its own pool) created during {e.requests} requests"
        + (f"; built at {evidence['built_at']}" if sites else ""),
        evidence=evidence,
        explanation="An engine is built inside the request path, so every request gets a new "
        "pool and a new connection; abandoned pools keep their connections open until "
        "garbage collection, and the server's connection count grows with traffic.",
        hint="Create the engine and sessionmaker once at start-up (module level or lifespan) "
        "and only open sessions per request.",
        decided=decided("engines_per_request", per_request, t.ENGINES_PER_REQUEST),
    )


def connection_leak(e: CellEvidence) -> Finding | None:
    # A request still running after quiesce holds its connection legitimately, unless it
    # only waits for one; a transaction still open after its request ended holds its
    # connection for good, however many requests are still running.
    still_out = max(
        e.pool.checked_out - e.in_flight, min(e.pool.checked_out, e.pool.idle_after_request), 0
    )
    reclaimed = e.pool.gc_cleaned_connections
    if still_out + reclaimed < t.LEAKED_CONNECTIONS_MIN:
        return None
    leaked_at = where(e.pool.gc_cleaned_at + e.pool.checked_out_at)
    return Finding(
        kind="connection-leak",
        severity="error",
        summary=f"{reclaimed} connections reclaimed by the garbage collector, {still_out} "
        f"still checked out after load stopped; from {leaked_at}",
        evidence={
            "gc_reclaimed_connections": reclaimed,
            "checked_out_after_quiesce": still_out,
            "requests_in_flight_after_quiesce": e.in_flight,
            "leaked_at": leaked_at,
        },
        explanation="Sessions were not closed on some path (typically the error path without "
        "try/finally): they were garbage-collected still holding their transaction, so "
        "their connections went back to the pool (or were dropped) only when the collector "
        "got to them, holding locks and pool slots until then.",
        hint="Open sessions with a context manager (`with SessionLocal() as db:`) or a yield "
        "dependency with try/finally, so close() runs when the route raises.",
        decided=decided("leaked_connections", still_out + reclaimed, t.LEAKED_CONNECTIONS_MIN),
    )


def cancelled_close(e: CellEvidence) -> Finding | None:
    cancelled = e.pool.cancelled_closes
    if cancelled < t.CANCELLED_CLOSES_MIN:
        return None
    at = where(e.pool.cancelled_closes_at)
    evidence: dict[str, float | int | str] = {
        "cancelled_closes": cancelled,
        "aborted_requests": e.aborted,
        "invalidations": e.pool.invalidations,
        "connections_opened": e.pool.connections_opened,
        "failed_requests": e.failures,
        "pool_timeouts": e.pool.pool_timeouts,
        "closed_at": at,
    }
    return Finding(
        kind="cancelled-close",
        severity="warning",
        summary=f"{cancelled} session closes cancelled by a client that hung up "
        f"({e.aborted} requests aborted), each connection discarded instead of returned; "
        f"at {at}",
        evidence=evidence,
        explanation="When a client disconnects, Starlette (for a StreamingResponse) or the "
        "app cancels the request's task, and AnyIO's cancellation also cancels the "
        "`await session.close()` in its `finally:`: the ROLLBACK never completes, so "
        "SQLAlchemy invalidates the connection (the driver terminates it) and the pool "
        "opens a new one later.  Older SQLAlchemy and drivers left such a connection "
        "checked out until the garbage collector warned of a non-checked-in connection, "
        "and the pool ran dry (sqlalchemy #8145, #11125, #12077).",
        hint="Open the session with `async with factory() as session:` (its exit runs "
        "close() to completion even when the task is cancelled), or shield the close: "
        "`with anyio.CancelScope(shield=True): await session.close()`.",
        decided=decided("cancelled_closes", cancelled, t.CANCELLED_CLOSES_MIN),
    )


def session_leak(e: CellEvidence) -> Finding | None:
    pool = e.pool
    registry = pool.scoped_registry
    held = max(0, max(pool.sessions_alive, registry or 0) - e.in_flight)
    # Sessions a registry created but that never got a connection never began.
    opened = max(pool.sessions_begun, held, 1)
    share = held / opened
    limits = e.limits
    if held < limits.leaked_sessions_min or share < limits.leaked_sessions_share:
        return None
    evidence: dict[str, float | int | str] = {
        "sessions_alive_after_quiesce": pool.sessions_alive,
        "sessions_opened": opened,
        "requests_in_flight_after_quiesce": e.in_flight,
        "begun_at": where(pool.sessions_alive_at),
    }
    if registry is not None:
        evidence["scoped_registry_size"] = registry
    return Finding(
        kind="session-leak",
        severity="error",
        summary=f"{held} of {opened} sessions still held after load stopped and a full GC; "
        f"begun at {evidence['begun_at']}",
        evidence=evidence,
        explanation="Something keeps every request's session alive: a scoped-session registry "
        "whose entries are never removed grows by one session (and one finished task) per "
        "request.",
        hint="Call `await Session.remove()` in a finally block at the end of each request, or "
        "use a plain async_sessionmaker session per request.",
        decided=min(
            decided("sessions_held", held, limits.leaked_sessions_min),
            decided("sessions_held_share", share, limits.leaked_sessions_share),
            key=lambda d: d.margin,
        ),
    )


def idle_in_transaction(e: CellEvidence) -> Finding | None:
    pool = e.pool
    in_tx = max(0, pool.sessions_in_transaction - e.in_flight)
    server_idle = e.server_after.idle_in_transaction if e.server_after else 0
    worst = max(in_tx, server_idle, pool.idle_after_request)
    oldest = e.diagnostics.idle_in_transaction_max_age_s
    left_open_at = where(pool.idle_after_request_at or pool.sessions_in_transaction_at)
    evidence: dict[str, float | int | str] = {
        "sessions_in_transaction": in_tx,
        "server_idle_in_transaction": server_idle,
        "open_after_their_request": pool.idle_after_request,
        "oldest_idle_in_transaction_s": round(oldest, 2),
        "left_open_at": left_open_at,
    }
    if worst >= t.IDLE_IN_TRANSACTION_MIN:
        return Finding(
            kind="idle-in-transaction",
            severity="error",
            summary=f"{worst} transactions left open after their request or after load "
            f"stopped; begun at {left_open_at}",
            evidence=evidence,
            explanation="Sessions began a transaction that was neither committed nor rolled "
            "back; the server keeps its locks and snapshot until the connection is closed.",
            hint="End every session with commit() or rollback() and close(): a context manager "
            "or a yield dependency that does it in finally.",
            decided=decided("open_transactions", worst, t.IDLE_IN_TRANSACTION_MIN),
        )
    if oldest >= t.IDLE_IN_TRANSACTION_AGE_S:
        return Finding(
            kind="idle-in-transaction",
            severity="warning",
            summary=f"transactions sat idle for up to {oldest:.1f} s during load, "
            "held open while requests waited for something other than the database",
            evidence=evidence,
            explanation="A request began a transaction and then awaited something slow (another "
            "service, a sleep, a slow client) before committing: the transaction idles, "
            "holding its locks, its snapshot and a pooled connection all that time.",
            hint="Do the slow call before the transaction begins or after it commits, or commit "
            "what must be durable first and open a second transaction afterwards.",
            decided=decided("oldest_idle_in_transaction_s", oldest, t.IDLE_IN_TRANSACTION_AGE_S),
        )
    return None


# What SQLAlchemy and the drivers say when two tasks use one session or connection at once.
SHARED_SESSION_SIGNATURES = (
    "IllegalStateChangeError",
    "concurrent operations are not permitted",  # a session provisioning its connection
    "another operation is in progress",  # asyncpg
    "another command is already in progress",  # psycopg
    "while another coroutine is already waiting",  # aiomysql, aiosqlite's streams
)


def shared_session(e: CellEvidence) -> Finding | None:
    errors = [
        err
        for err in e.diagnostics.app_errors
        if any(sig in err.error for sig in SHARED_SESSION_SIGNATURES)
    ]
    count = sum(err.count for err in errors)
    if count < t.SHARED_SESSION_ERRORS_MIN:
        return None
    top = max(errors, key=lambda err: err.count)
    evidence: dict[str, float | int | str] = {"concurrent_use_errors": count}
    for err in sorted(errors, key=lambda err: -err.count)[: t.FAILURE_CAUSES_SHOWN]:
        evidence[err.app_line] = f"{err.count} x {err.error}"
    return Finding(
        kind="shared-session",
        severity="error",
        summary=f"{count} requests failed using one session concurrently: {top.error} "
        f"(at {top.app_line})",
        evidence=evidence,
        explanation="One Session or AsyncSession (and its one connection) is shared by "
        "requests running at the same time, e.g. created at import; a session is not safe "
        "for concurrent use, so overlapping requests fail with 'another operation is in "
        "progress' or IllegalStateChangeError and may see each other's uncommitted work.",
        hint="Open one session per request: an async_sessionmaker at module level and a "
        "dependency that yields `async with SessionLocal() as session`.",
        decided=decided("concurrent_use_errors", count, t.SHARED_SESSION_ERRORS_MIN),
    )


def lost_write(e: CellEvidence) -> Finding | None:
    late = e.final.commits.commits_after_response  # BackgroundTasks' own commits excluded
    checks = e.checks
    missing = checks.missing_writes if checks else 0
    misses = checks.read_your_write_misses if checks else 0
    if late + missing + misses < t.LOST_WRITES_MIN:
        return None
    sites = e.final.commits.after_response_at
    late_at = f"; late commits in {where(sites)}" if sites else ""
    return Finding(
        kind="lost-write",
        severity="error",
        summary=f"{late} commits completed after their response was sent; {missing} "
        f"acknowledged writes missing, {misses} of "
        f"{checks.read_your_write_probes if checks else 0} immediate reads missed the row "
        f"just written{late_at}",
        evidence={
            "commits_after_response": late,
            "late_commit_at": where(sites),
            "background_commits_after_response": (
                e.final.commits.background_commits_after_response
            ),
            "acknowledged_writes": checks.acknowledged_writes if checks else 0,
            "missing_writes": missing,
            "read_your_write_misses": misses,
        },
        explanation="The response was sent before the transaction committed (commit after "
        "`yield` in a dependency with FastAPI's default request scope): clients can read "
        "stale data, and a commit that fails after the 200 loses the write.",
        hint="Commit in the route, or declare the dependency with "
        '`Depends(get_db, scope="function")` so its exit code runs before the response.',
        decided=decided("late_or_lost_writes", late + missing + misses, t.LOST_WRITES_MIN),
    )


# The server's error when a transaction lands on a server connection that lacks, or
# already holds, the client's named statement (asyncpg `__asyncpg_stmt_N__`, psycopg `_pg3_N`).
POOLER_STATEMENT_ERROR = re.compile(r'prepared statement "[^"]*" (does not exist|already exists)')


def pooler_prepared_statements(e: CellEvidence) -> Finding | None:
    if e.pooler is None:
        return None
    matched = [(f, m) for f in e.failures_by_kind if (m := POOLER_STATEMENT_ERROR.search(f.error))]
    count = sum(f.occurrences for f, _ in matched)
    if count < t.POOLER_STATEMENT_ERRORS_MIN:
        return None
    by_error = {"does not exist": 0, "already exists": 0}
    for failure, match in matched:
        by_error[match.group(1)] += failure.occurrences
    quoted = max(matched, key=lambda fm: fm[0].occurrences)[1].group(0)
    return Finding(
        kind="pooler-prepared-statements",
        severity="error",
        summary=f"{count} of {e.requests} requests failed behind {e.pooler}: {quoted} "
        f"({by_error['does not exist']} x does not exist, "
        f"{by_error['already exists']} x already exists)",
        evidence={
            "pooler": e.pooler,
            "statement_errors": count,
            "does_not_exist": by_error["does not exist"],
            "already_exists": by_error["already exists"],
            "server_error": quoted,
            "requests": e.requests,
        },
        explanation="A transaction-mode pooler gives each transaction whichever server "
        "connection is free, but the driver prepares named statements once per client "
        "connection and reuses them: the next transaction runs on a server connection "
        "that never saw the statement, or one that already holds a statement of that name "
        "from another client.",
        hint="Behind the pooler, turn the driver's statement cache off and name statements "
        "uniquely: with asyncpg, `?prepared_statement_cache_size=0` in the URL and "
        'connect_args={"statement_cache_size": 0, '
        '"prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"} '
        "(psycopg: prepare_threshold=None); and use NullPool in the app, since the pooler "
        "pools (pool variant `pooler`, target `async-session-pooler`).",
        decided=decided("statement_errors", count, t.POOLER_STATEMENT_ERRORS_MIN),
    )


def failed_requests(e: CellEvidence) -> Finding | None:
    if e.failures < t.FAILED_REQUESTS_MIN:
        return None
    rate = e.failures / max(e.requests, 1)
    causes = sorted(e.failures_by_kind, key=lambda f: -f.occurrences)
    evidence: dict[str, float | int | str] = {
        "failures": e.failures,
        "requests": e.requests,
        "error_rate": round(rate, 4),
    }
    for cause in causes[: t.FAILURE_CAUSES_SHOWN]:
        evidence[f"{cause.method} {cause.name}".strip()] = f"{cause.occurrences} x {cause.error}"
    top = f": {causes[0].occurrences} x {causes[0].error}" if causes else ""
    return Finding(
        kind="failed-requests",
        severity="error" if rate >= t.FAILED_REQUESTS_ERROR_RATE else "warning",
        summary=f"{e.failures} of {e.requests} requests failed or never finished ({rate:.1%}){top}",
        evidence=evidence,
        explanation="Requests got an error answer, or were still unanswered when load "
        "stopped: whatever the throughput, these users were not served.",
        hint="Read the causes: a pool timeout, a closed connection, a blocked loop that let "
        "requests time out, or an error in the app itself.",
        decided=decided("failures", e.failures, t.FAILED_REQUESTS_MIN),
    )


# A loop, a pool and a threadpool are per process: under several target workers those
# rules judge each worker alone (per_worker.py).
RULES: list[Callable[[CellEvidence], Finding | None]] = [
    per_worker(event_loop_blocking),
    per_worker(pool_exhaustion),
    per_worker(threadpool_starvation),
    engine_per_request,
    per_worker(connection_churn),
    connection_leak,
    cancelled_close,
    session_leak,
    idle_in_transaction,
    lost_write,
    shared_session,
    pooler_prepared_statements,
    stale_connections,
    failed_requests,
    gc_pauses,
]

# A root cause explains its symptoms: report the cause, with the symptoms' summaries
# added to its evidence, so nothing measured is dropped.  Failed requests are a symptom
# of every unhealthy cause; alone, they are a finding of their own.
_ANY_CAUSE = {"failed-requests"}
# A blocked loop, a starved threadpool or an exhausted pool make the transactions of the
# requests caught in them idle meanwhile: the cause is reported, not the session code.
_STALLED = {"idle-in-transaction", *_ANY_CAUSE}
SUBSUMES = {
    "event-loop-blocking": _STALLED,
    "pool-exhaustion": _STALLED,
    "threadpool-starvation": _STALLED,
    # A session shared by every request is never closed: the connection and the open
    # transaction it keeps are part of the same mistake.
    "shared-session": {"connection-leak", "idle-in-transaction", *_ANY_CAUSE},
    # A session something keeps keeps its transaction open past its request.
    "session-leak": {"idle-in-transaction", *_ANY_CAUSE},
    "idle-in-transaction": _ANY_CAUSE,
    "lost-write": _ANY_CAUSE,
    "pooler-prepared-statements": _ANY_CAUSE,
    # Requests handed a dead connection fail: that is the root cause of those failures.
    "stale-connections": _ANY_CAUSE,
    "engine-per-request": {"connection-churn", *_ANY_CAUSE},
    # A session nobody closed holds its transaction and its pool slot until the GC
    # finds it: open transactions, a starved pool, threads waiting on it, and new
    # connections opened in place of the ones the collector closed follow.
    "connection-leak": {
        "idle-in-transaction",
        "pool-exhaustion",
        "threadpool-starvation",
        "connection-churn",
        *_ANY_CAUSE,
    },
    # A close cut short leaves its session inside a transaction the ORM never ended (the
    # garbage collector later collects it so), and its connection is replaced by a new
    # one; pool waits and failures during the fault follow from those.
    "cancelled-close": {
        "connection-leak",
        "idle-in-transaction",
        "pool-exhaustion",
        "connection-churn",
        *_ANY_CAUSE,
    },
}


def findings_from(evidence: CellEvidence) -> list[Finding]:
    findings = [f for rule in RULES if (f := rule(evidence)) is not None]
    kinds = {f.kind: f for f in findings}
    for cause, symptoms in SUBSUMES.items():
        if cause in kinds:
            for symptom in symptoms & kinds.keys():
                kinds[cause].evidence[f"also: {symptom}"] = kinds[symptom].summary
    hidden = {s for cause in kinds if cause in SUBSUMES for s in SUBSUMES[cause]}
    return [f for f in findings if f.kind not in hidden]


def diagnose(cell: CellResult) -> list[Finding]:
    """The findings of one measured cell: a pure function of what was saved."""
    evidence = CellEvidence.of(cell)
    return [] if evidence is None else findings_from(evidence)
