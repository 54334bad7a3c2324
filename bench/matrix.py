"""Expanding the user's choices into cells: strategy, database, pool variant, scenario."""

import math
import re
from dataclasses import dataclass

from sessionbench.scenarios.catalogue import Scenario
from sessionbench.targets.config import PoolSettings
from sessionbench.targets.registry import Strategy

from .databases.catalogue import DatabaseKind
from .urls import driver_for
from .workers import Workers


@dataclass(frozen=True)
class Cell:
    strategy: Strategy
    database: DatabaseKind
    driver: str
    pool: PoolSettings
    scenario: Scenario
    users: int
    duration_s: float
    added_delay_ms: float = 0.0  # injected per-request CPU (gate calibration)
    added_error_rate: float = 0.0  # injected failed requests (gate calibration)
    probes: bool = True
    rate: tuple[float, ...] = ()  # open model: arrivals/s per equal step; () closed
    workers: Workers | None = None  # Locust's master and workers; None: one Locust process
    version_set: str = ""  # a version set's label (versions.py); "": sessionbench's own
    target_workers: int = 1  # the target's uvicorn worker processes, each with its own pool

    @property
    def id(self) -> str:
        parts = [
            self.strategy.name,
            f"{self.database.name}+{self.driver}",
            self.pool.name,
            self.scenario.name
            + (f"@rate={format_rate(self.rate)}" if self.rate else "")
            # Another process count is another target: its cells never fold or gate together.
            + (f"@target-workers={self.target_workers}" if self.target_workers > 1 else ""),
        ]
        return "/".join([*parts, self.version_set] if self.version_set else parts)

    @property
    def slug(self) -> str:
        """The id as a file name."""
        return re.sub(r"[^A-Za-z0-9.+-]+", "_", self.id)


# Open model: without `--users`, a pool holding one second of the peak rate's arrivals
# in flight (the locustfile's drop allowance), so a target answering within a second
# never finds the pool empty.
OPEN_POOL_SECONDS = 1.0
MAX_OPEN_POOL = 1000


def format_rate(rate: tuple[float, ...]) -> str:
    """As `--rate` takes it: 50 or 20,40,80."""
    return ",".join(f"{r:g}" for r in rate)


def open_pool(rate: tuple[float, ...]) -> int:
    return min(MAX_OPEN_POOL, math.ceil(max(rate) * OPEN_POOL_SECONDS))


def expand(
    strategies: list[Strategy],
    databases: list[DatabaseKind],
    pools: list[PoolSettings],
    scenarios: list[Scenario],
    *,
    duration_s: float,
    users: int | None = None,
    async_driver: str | None = None,
    rate: tuple[float, ...] = (),
    workers: Workers | None = None,
    target_workers: int = 1,
) -> list[Cell]:
    """Cells grouped by database, so each database is provisioned once; a strategy
    appears only with the databases its pattern runs on."""
    return [
        Cell(
            strategy=strategy,
            database=database,
            driver=driver_for(database.backend, strategy.api, async_driver),
            pool=pool,
            scenario=scenario,
            users=users or (open_pool(rate) if rate else scenario.users),
            duration_s=duration_s,
            rate=rate,
            workers=workers,
            target_workers=target_workers,
        )
        for database in databases
        for strategy in strategies
        if strategy.runs_on(database.name)
        for pool in pools
        for scenario in scenarios
    ]
