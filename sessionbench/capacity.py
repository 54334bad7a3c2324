"""Connections a target may open, against what the database server allows.

Each uvicorn worker process has its own pool, so a target under N workers may hold
N x (pool_size + max_overflow) connections at once.  Past the server's limit for
ordinary users (Postgres: `max_connections` less the connections reserved for
superusers and `pg_use_reserved_connections`), the last connections are refused
("too many clients already") however well each pool is sized.  One small function,
shared by `run` and anything that sweeps pools or workers.
"""

from dataclasses import dataclass

from .targets.config import PoolSettings


@dataclass(frozen=True)
class ConnectionBudget:
    workers: int
    per_worker: int | None  # pool_size + max_overflow; None: unbounded (NullPool, -1)
    server_limit: int | None  # connections the server allows; None: not known

    @property
    def total(self) -> int | None:
        """Most connections the target may hold at once, all workers together."""
        return None if self.per_worker is None else self.workers * self.per_worker

    @property
    def exceeds(self) -> bool:
        """The pools together may ask for more than the server allows (unbounded pools
        always may)."""
        if self.server_limit is None:
            return False
        return self.total is None or self.total > self.server_limit

    def describe(self) -> str:
        per = "unbounded" if self.per_worker is None else str(self.per_worker)
        total = "unbounded" if self.total is None else str(self.total)
        limit = "unknown" if self.server_limit is None else str(self.server_limit)
        return (
            f"{self.workers} workers x {per} connections (pool_size + max_overflow) = "
            f"{total}, server allows {limit}"
        )


def connection_budget(
    workers: int, pool: PoolSettings, server_limit: int | None
) -> ConnectionBudget:
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return ConnectionBudget(workers=workers, per_worker=pool.capacity, server_limit=server_limit)
