"""Expanding the user's choices into cells: strategy, database, pool variant, scenario."""

import re
from dataclasses import dataclass

from sessionbench.scenarios.catalogue import Scenario
from sessionbench.targets.config import PoolSettings
from sessionbench.targets.registry import Strategy

from .databases.catalogue import DatabaseKind
from .urls import driver_for


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
    probes: bool = True
    version_set: str = ""  # a version set's label (versions.py); "": sessionbench's own

    @property
    def id(self) -> str:
        parts = [
            self.strategy.name,
            f"{self.database.name}+{self.driver}",
            self.pool.name,
            self.scenario.name,
        ]
        return "/".join([*parts, self.version_set] if self.version_set else parts)

    @property
    def slug(self) -> str:
        """The id as a file name."""
        return re.sub(r"[^A-Za-z0-9.+-]+", "_", self.id)


def expand(
    strategies: list[Strategy],
    databases: list[DatabaseKind],
    pools: list[PoolSettings],
    scenarios: list[Scenario],
    *,
    duration_s: float,
    users: int | None = None,
    async_driver: str | None = None,
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
            users=users or scenario.users,
            duration_s=duration_s,
        )
        for database in databases
        for strategy in strategies
        if strategy.runs_on(database.name)
        for pool in pools
        for scenario in scenarios
    ]
