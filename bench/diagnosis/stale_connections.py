"""The rule `stale-connections`: the pool handed out connections the server had closed.

With a fault (scenario data), the requests counted are those that began after the server
had closed the target's connections (`load.fault.dead_from_s`) and failed with a
lost-connection error: requests caught mid-query at the fault fail whatever the pool
does, and are left to `failed-requests`.  Without a fault, lost connections on a pool
that never pings them are counted (an idle timeout or a firewall in between).
"""

from sessionbench.results import Finding

from . import thresholds as t
from .evidence import CellEvidence

# Errors a driver raises when the server had closed the connection it was given: the
# text each driver quotes (libpq/psycopg, asyncpg, PyMySQL/aiomysql).
CONNECTION_LOST_SIGNATURES = (
    "terminating connection due to administrator command",  # Postgres: terminate, restart
    "terminating connection due to idle-session timeout",  # Postgres idle_session_timeout
    "server closed the connection unexpectedly",  # libpq
    "connection was closed in the middle of operation",  # asyncpg
    "connection is closed",  # asyncpg, psycopg ("the connection is closed")
    "lost connection to mysql server",  # PyMySQL / aiomysql 2013
    "mysql server has gone away",  # 2006
)


def connection_lost(error: str) -> bool:
    lowered = error.lower()
    return any(signature in lowered for signature in CONNECTION_LOST_SIGNATURES)


def _stale_checkouts(e: CellEvidence) -> tuple[int, dict[str, int]]:
    """Failures that prove a dead connection was handed out, and their causes."""
    causes: dict[str, int] = {}
    fault = e.fault
    if fault is not None:
        if fault.dead_from_s is None:  # not injected
            return 0, causes
        since = fault.dead_from_s + t.STALE_GRACE_S
        for failure in fault.failures:
            if failure.start_s >= since and connection_lost(failure.error):
                causes[failure.error] = causes.get(failure.error, 0) + 1
    elif e.pool_settings is not None and not e.pool_settings.pool_pre_ping:
        for kind in e.failures_by_kind:
            if connection_lost(kind.error):
                causes[kind.error] = causes.get(kind.error, 0) + kind.occurrences
    return sum(causes.values()), causes


def stale_connections(e: CellEvidence) -> Finding | None:
    # Imported here: rules.py imports this module for its list of rules.
    from .rules import decided

    count, causes = _stale_checkouts(e)
    if count < t.STALE_CHECKOUTS_MIN:
        return None
    error, times = max(causes.items(), key=lambda kv: kv[1])
    pool = e.pool_settings
    evidence: dict[str, float | int | str] = {
        "stale_checkouts": count,
        "error": f"{times} x {error}",
        "pool_pre_ping": str(pool.pool_pre_ping) if pool else "unknown",
        "pool_recycle_s": pool.pool_recycle if pool else "unknown",
    }
    fault = e.fault
    where = ""
    if fault is not None:
        evidence |= {"fault": fault.kind, "failed_during_fault": fault.failed}
        if fault.time_to_recover_s is not None:
            evidence["time_to_recover_s"] = fault.time_to_recover_s
        where = f" after the {fault.kind} fault"
    return Finding(
        kind="stale-connections",
        severity="error",
        summary=f"{count} requests got a connection the server had already closed{where}: {error}",
        evidence=evidence,
        explanation="The pool handed out connections the database server had closed (a "
        "restart, a terminated session, an idle timeout or a firewall): each request "
        "that checked one out failed, until SQLAlchemy saw the disconnect and emptied "
        "the pool.",
        hint="Set pool_pre_ping=True (one round trip per checkout: compare req/s of the "
        "`pre-ping` and `default` pool variants in this run), or pool_recycle below the "
        "server's idle timeout when idle connections are what is closed.",
        decided=decided("stale_checkouts", count, t.STALE_CHECKOUTS_MIN),
    )
