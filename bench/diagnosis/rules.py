"""One rule per finding kind.  Each reads the cell's evidence and returns a finding with
the figures that prove it, or None.  Thresholds live in `thresholds.py`."""

import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sessionbench.results import DatabaseChecks, Diagnostics, Finding, LoadResult
from sessionbench.targets.config import PoolSettings

from ..latency import percentile
from . import thresholds as t


@dataclass
class CellEvidence:
    pool: PoolSettings
    load: LoadResult
    diagnostics: Diagnostics
    final: dict[str, Any]  # the probe's reading after quiesce and a full GC
    checks: DatabaseChecks
    server_after: dict[str, float] = field(default_factory=dict)  # Postgres only

    @property
    def pool_reading(self) -> dict[str, Any]:
        return dict(self.final["pool"])


_LIBRARY_DIRS = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def _is_app_frame(frame: str) -> bool:
    """Code of the app under test: not the standard library or an installed library
    (sessionbench's own targets count as app code wherever they are installed)."""
    if "targets/probes/" in frame:  # the probes' own wrappers measure, they do not block
        return False
    if "sessionbench/targets/" in frame:
        return True
    # "<frozen importlib...>", "<sqlalchemy generated ...>": library code without a file.
    return not frame.startswith(("<", *_LIBRARY_DIRS))


def _frame(stack: list[str]) -> str:
    """The innermost frame of the app's own code."""
    own = [f for f in stack if _is_app_frame(f)]
    return (own or stack or ["(stack not captured)"])[-1]


def event_loop_blocking(e: CellEvidence) -> Finding | None:
    # Only stalls with the app's own code on the stack: a stall inside the framework
    # alone (formatting an error's traceback, say) is a consequence, not the cause.
    stalls = [
        s
        for s in e.diagnostics.stalls
        if s.cause == "code"
        and s.duration_ms >= t.BLOCKING_STALL_MS
        and any(_is_app_frame(f) for f in s.stack)
    ]
    stalled_ms = sum(s.duration_ms for s in stalls)
    duration_s = max(e.load.duration_s, 1e-3)
    recurring = len(stalls) / duration_s >= t.BLOCKING_STALLS_PER_S
    long = stalled_ms / 1000 / duration_s >= t.BLOCKING_STALLED_SHARE
    # Recurring stalls need several to be a pattern; one stall that takes a large share
    # of the run (a lock wait on the loop, say) is blocking on its own.
    if not (long or (recurring and len(stalls) >= t.BLOCKING_MIN_STALLS)):
        return None
    worst = max(stalls, key=lambda s: s.duration_ms)
    health = next((r for r in e.load.routes if r.name == "/health"), None)
    evidence: dict[str, float | int | str] = {
        "stalls": len(stalls),
        "stall_max_ms": round(worst.duration_ms, 1),
        "stalled_ms_total": round(stalled_ms, 1),
        "blocking_code": _frame(worst.stack),
    }
    if health is not None:
        evidence["health_p99_ms"] = health.p99_ms
    return Finding(
        kind="event-loop-blocking",
        severity="error",
        summary=f"event loop blocked {len(stalls)} times, up to {worst.duration_ms:.0f} ms, "
        f"in {evidence['blocking_code']}",
        evidence=evidence,
        explanation="Code ran on the event loop thread without yielding (a sync database call "
        "inside an async def route, typically): while it runs, no other request on this "
        "worker makes progress, including /health.",
        hint="Use AsyncSession with an async driver in async def routes, or declare the route "
        "with plain def so FastAPI runs it in its threadpool.",
    )


def gc_pauses(e: CellEvidence) -> Finding | None:
    stalls = [
        s for s in e.diagnostics.stalls if s.cause == "gc" and s.duration_ms >= t.GC_NOTE_STALL_MS
    ]
    if not stalls:
        return None
    return Finding(
        kind="gc-pauses",
        severity="info",
        summary=f"{len(stalls)} loop stalls from garbage collection, up to "
        f"{max(s.duration_ms for s in stalls):.0f} ms (not the strategy's doing)",
        evidence={
            "stalls": len(stalls),
            "stall_max_ms": round(max(s.duration_ms for s in stalls), 1),
        },
        explanation="Full garbage-collection passes stop every thread; in a busy app they show "
        "up as event-loop stalls unrelated to the session strategy.",
        hint="Call gc.freeze() after start-up so long-lived objects leave the collector's "
        "young generations.",
    )


def pool_exhaustion(e: CellEvidence) -> Finding | None:
    pool = e.pool_reading
    waits = {int(k): v for k, v in pool["checkout_wait_ms"].items()}
    wait_p99 = percentile(waits, 0.99)
    capacity = e.pool.capacity
    at_capacity = capacity is not None and pool["checked_out_max"] >= capacity
    timeouts = int(pool["pool_timeouts"])
    if timeouts < t.POOL_TIMEOUTS_MIN and not (at_capacity and wait_p99 >= t.POOL_WAIT_P99_MS):
        return None
    return Finding(
        kind="pool-exhaustion",
        severity="error" if timeouts else "warning",
        summary=f"pool ran out: {timeouts} checkout timeouts, checkout wait p99 {wait_p99:.0f} ms, "
        f"{pool['checked_out_max']} of {capacity} connections in use",
        evidence={
            "pool_timeouts": timeouts,
            "checkout_wait_p99_ms": wait_p99,
            "checked_out_max": pool["checked_out_max"],
            "capacity": capacity if capacity is not None else "unbounded",
        },
        explanation="More requests wanted a connection at once than the pool can hand out "
        "(pool_size + max_overflow); the rest waited, and past pool_timeout they failed "
        "with 'QueuePool limit ... reached'.",
        hint="Size the pool for the concurrency you accept, bound concurrency in front of the "
        "database (a semaphore or fewer workers), or shorten the time each request holds a "
        "connection.",
    )


def threadpool_starvation(e: CellEvidence) -> Finding | None:
    threads = e.final["threadpool"]
    capacity = e.pool.capacity
    waiting_for_pool = capacity is not None and threads["borrowed_max"] > capacity
    if threads["saturated_share"] < t.THREADPOOL_SATURATED_SHARE or not waiting_for_pool:
        return None
    return Finding(
        kind="threadpool-starvation",
        severity="warning",
        summary=f"all {threads['total']} threadpool tokens borrowed for "
        f"{threads['saturated_share']:.0%} of the run, with only {capacity} pool connections",
        evidence={
            "threadpool_tokens": threads["total"],
            "saturated_share": round(threads["saturated_share"], 3),
            "pool_capacity": capacity if capacity is not None else "unbounded",
        },
        explanation="Sync routes run in a limited threadpool; threads beyond the pool's "
        "capacity wait for a connection while holding a token, so every other sync route "
        "and dependency queues behind them.",
        hint="Keep the threadpool limit and the pool capacity in step (anyio's default limiter "
        "has 40 tokens), or move to AsyncSession.",
    )


def connection_churn(e: CellEvidence) -> Finding | None:
    pool = e.pool_reading
    settled = e.pool.capacity or 1
    extra = max(0, pool["connections_opened"] - settled)
    rate = extra / e.load.duration_s if e.load.duration_s else 0.0
    per_request = extra / max(e.load.requests, 1)
    if rate < t.CHURN_CONNECTS_PER_S or per_request < t.CHURN_CONNECTS_PER_REQUEST:
        return None
    return Finding(
        kind="connection-churn",
        severity="warning",
        summary=f"{pool['connections_opened']} connections opened ({rate:.0f}/s beyond filling "
        "the pool)",
        evidence={
            "connections_opened": pool["connections_opened"],
            "connects_per_s": round(rate, 1),
            "connects_per_request": round(per_request, 3),
            "pool_size": e.pool.pool_size,
            "max_overflow": e.pool.max_overflow,
        },
        explanation="Connections are opened and closed again instead of being reused: overflow "
        "connections beyond pool_size close on check-in, and NullPool opens one per "
        "checkout.  Each costs a server session start (milliseconds on Postgres).",
        hint="Raise pool_size towards the usual concurrency and keep max_overflow small, or use "
        "a server-side pooler if you need NullPool.",
    )


def engine_per_request(e: CellEvidence) -> Finding | None:
    engines = int(e.pool_reading["engines_connected"])
    if engines < t.ENGINES_MIN:
        return None
    evidence: dict[str, float | int | str] = {
        "engines_connected": engines,
        "connections_opened": e.pool_reading["connections_opened"],
        "requests": e.load.requests,
    }
    if "server_connections" in e.server_after:
        evidence["server_connections_after"] = e.server_after["server_connections"]
    return Finding(
        kind="engine-per-request",
        severity="error",
        summary=f"{engines} engines (each with its own pool) created during "
        f"{e.load.requests} requests",
        evidence=evidence,
        explanation="An engine is built inside the request path, so every request gets a new "
        "pool and a new connection; abandoned pools keep their connections open until "
        "garbage collection, and the server's connection count grows with traffic.",
        hint="Create the engine and sessionmaker once at start-up (module level or lifespan) "
        "and only open sessions per request.",
    )


def connection_leak(e: CellEvidence) -> Finding | None:
    pool = e.pool_reading
    still_out, reclaimed = int(pool["checked_out"]), int(pool["gc_cleaned_connections"])
    if still_out + reclaimed < t.LEAKED_CONNECTIONS_MIN:
        return None
    return Finding(
        kind="connection-leak",
        severity="error",
        summary=f"{reclaimed} connections reclaimed by the garbage collector, {still_out} "
        "still checked out after load stopped",
        evidence={"gc_reclaimed_connections": reclaimed, "checked_out_after_quiesce": still_out},
        explanation="Sessions were not closed on some path (typically the error path without "
        "try/finally): they were garbage-collected still holding their transaction, so "
        "their connections went back to the pool (or were dropped) only when the collector "
        "got to them, holding locks and pool slots until then.",
        hint="Open sessions with a context manager (`with SessionLocal() as db:`) or a yield "
        "dependency with try/finally, so close() runs when the route raises.",
    )


def session_leak(e: CellEvidence) -> Finding | None:
    pool = e.pool_reading
    alive = int(pool["sessions_alive"])
    registry = pool.get("scoped_registry")
    held = max(alive, int(registry or 0))
    # Sessions a registry created but that never got a connection never began.
    opened = max(int(pool["sessions_begun"]), held, 1)
    if held < t.LEAKED_SESSIONS_MIN or held / opened < t.LEAKED_SESSIONS_SHARE:
        return None
    evidence: dict[str, float | int | str] = {
        "sessions_alive_after_quiesce": alive,
        "sessions_opened": opened,
    }
    if registry is not None:
        evidence["scoped_registry_size"] = registry
    return Finding(
        kind="session-leak",
        severity="error",
        summary=f"{held} of {opened} sessions still held after load stopped and a full GC",
        evidence=evidence,
        explanation="Something keeps every request's session alive: a scoped-session registry "
        "whose entries are never removed grows by one session (and one finished task) per "
        "request.",
        hint="Call `await Session.remove()` in a finally block at the end of each request, or "
        "use a plain async_sessionmaker session per request.",
    )


def idle_in_transaction(e: CellEvidence) -> Finding | None:
    in_tx = int(e.pool_reading["sessions_in_transaction"])
    server_idle = int(e.server_after.get("idle_in_transaction", 0))
    if max(in_tx, server_idle) < t.IDLE_IN_TRANSACTION_MIN:
        return None
    return Finding(
        kind="idle-in-transaction",
        severity="error",
        summary=f"{max(in_tx, server_idle)} transactions left open after load stopped",
        evidence={"sessions_in_transaction": in_tx, "server_idle_in_transaction": server_idle},
        explanation="Sessions began a transaction that was neither committed nor rolled back; "
        "the server keeps its locks and snapshot until the connection is closed.",
        hint="End every session with commit() or rollback() and close(): a context manager or "
        "a yield dependency that does it in finally.",
    )


def lost_write(e: CellEvidence) -> Finding | None:
    late = int(e.final.get("commits", {}).get("commits_after_response", 0))
    missing, misses = e.checks.missing_writes, e.checks.read_your_write_misses
    if late + missing + misses < t.LOST_WRITES_MIN:
        return None
    return Finding(
        kind="lost-write",
        severity="error",
        summary=f"{late} commits completed after their response was sent; {missing} "
        f"acknowledged writes missing, {misses} of {e.checks.read_your_write_probes} "
        "immediate reads missed the row just written",
        evidence={
            "commits_after_response": late,
            "acknowledged_writes": e.checks.acknowledged_writes,
            "missing_writes": missing,
            "read_your_write_misses": misses,
        },
        explanation="The response was sent before the transaction committed (commit after "
        "`yield` in a dependency with FastAPI's default request scope): clients can read "
        "stale data, and a commit that fails after the 200 loses the write.",
        hint="Commit in the route, or declare the dependency with "
        '`Depends(get_db, scope="function")` so its exit code runs before the response.',
    )


RULES: list[Callable[[CellEvidence], Finding | None]] = [
    event_loop_blocking,
    pool_exhaustion,
    threadpool_starvation,
    engine_per_request,
    connection_churn,
    connection_leak,
    session_leak,
    idle_in_transaction,
    lost_write,
    gc_pauses,
]

# A root cause explains its symptoms: report the cause, with the symptoms' summaries
# added to its evidence, so nothing measured is dropped.
SUBSUMES = {
    "engine-per-request": {"connection-churn"},
    # A session nobody closed holds its transaction and its pool slot until the GC
    # finds it: open transactions, a starved pool, threads waiting on it, and new
    # connections opened in place of the ones the collector closed follow.
    "connection-leak": {
        "idle-in-transaction",
        "pool-exhaustion",
        "threadpool-starvation",
        "connection-churn",
    },
}


def diagnose(evidence: CellEvidence) -> list[Finding]:
    findings = [f for rule in RULES if (f := rule(evidence)) is not None]
    kinds = {f.kind: f for f in findings}
    for cause, symptoms in SUBSUMES.items():
        if cause in kinds:
            for symptom in symptoms & kinds.keys():
                kinds[cause].evidence[f"also: {symptom}"] = kinds[symptom].summary
    hidden = {s for cause in kinds if cause in SUBSUMES for s in SUBSUMES[cause]}
    return [f for f in findings if f.kind not in hidden]
