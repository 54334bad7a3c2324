"""What a pool-sizing sweep (`sessionbench sweep`) saves beside its cells in results.json.

The points themselves are ordinary cells; this record holds what their analysis needs
and the cells do not: the grid that was asked for, the thresholds of the knee, the
target's worker processes, and the server's connection limits read when it ran.  The
sweep's table, knee and recommendation are then a pure function of the saved file.
"""

from pydantic import BaseModel, Field


class ServerLimits(BaseModel):
    """The database server's connection limit, as the server itself reported it."""

    backend: str  # "postgresql", "mysql", "sqlite"
    max_connections: int | None = None  # None: no server-wide limit (SQLite)
    # Slots ordinary roles cannot take: superuser_reserved_connections, and on
    # Postgres 16+ reserved_connections (pg_use_reserved_connections).
    reserved_connections: int = 0
    note: str = ""  # how the figures were read, or why they do not apply

    @property
    def available(self) -> int | None:
        """Connections an application role may open."""
        if self.max_connections is None:
            return None
        return self.max_connections - self.reserved_connections


class SweepRecord(BaseModel):
    """The grid and the rules of one sweep."""

    strategy: str
    database: str
    scenario: str
    pool_sizes: list[int]
    users: list[int]
    max_overflow: int = 0  # the same for every point; -1: unlimited
    # The target's worker processes (`--target-workers`), each with its own pool: every
    # point runs under them, and the connection arithmetic multiplies by them.
    target_workers: int = Field(default=1, ge=1)
    # The knee's rules, saved so that a later analysis applies the same ones.
    # Without repeats, throughput within 10 % of the best counts as the best: single runs
    # on 2 shared cores differ by 10-20 % (README, "Diagnostics"), so a smaller gap is
    # not one a single run shows.
    fixed_tolerance: float = 0.10
    # Requests that spend a tenth of their time queued for a connection: the pool, not
    # the database, is then setting their latency.
    max_wait_share: float = 0.10
    server: ServerLimits | None = None  # None until the server was reached
