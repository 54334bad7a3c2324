"""`sessionbench sweep`: pool_size x users for one strategy, to size its pool.

Each point is an ordinary cell with a custom pool (`pool_size=N`, `max_overflow` as
given), run by the runner, so results.json is a normal run that `report` and
`diagnose` read; `RunResult.sweep` adds the grid, the knee's rules and the server's
connection limits, read once from the server the points run against.  The grid's time
is checked against the budget before anything runs.
"""

import dataclasses
from pathlib import Path

from sessionbench.errors import UsageError
from sessionbench.results import CellResult
from sessionbench.scenarios.catalogue import Scenario
from sessionbench.sweep_record import SweepRecord
from sessionbench.targets.pools import POOLS, custom_pool
from sessionbench.targets.registry import Strategy

from .databases.base import DatabaseServer
from .databases.catalogue import DatabaseKind, ProvisionOptions
from .matrix import Cell, expand
from .processes import ChildProcesses
from .runner import CellRunner, RunPlan, run_cell
from .server_limits import read_limits

# Wall time of a point beyond its load window: a fresh database and its migrations, the
# target's start, Locust's start and stop (up to its 2 s stop timeout), the quiesce and
# 1 s settle, the checks; and a share of the run's start and its reports.  Measured
# here on Postgres (2 shared cores): 3.0-4.9 s per point, reports 10-20 s a run.
CELL_OVERHEAD_S = 6.0
MAX_VALUE = 1000  # pool sizes and users, as `run --users` allows


def parse_counts(option: str, text: str) -> list[int]:
    """`2,5,10,20` -> [2, 5, 10, 20]: positive whole numbers, sorted, each once."""
    try:
        values = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise UsageError(f"invalid {option} {text!r}: use whole numbers, e.g. 2,5,10,20") from None
    if not all(1 <= v <= MAX_VALUE for v in values):
        raise UsageError(f"{option} {text!r} out of range: each from 1 to {MAX_VALUE}")
    return values


def estimate_s(points: int, repeat: int, duration_s: float) -> float:
    return points * repeat * (duration_s + CELL_OVERHEAD_S)


def check_budget(points: int, repeat: int, duration_s: float, budget_s: float) -> float:
    """The grid's estimated time; a grid the budget cannot hold is refused before any load."""
    estimate = estimate_s(points, repeat, duration_s)
    if estimate > budget_s:
        fits = int(budget_s // (repeat * (duration_s + CELL_OVERHEAD_S)))
        raise UsageError(
            f"sweep too large for --budget {budget_s / 60:g} min: {points} points x {repeat} "
            f"repeat(s) x ({duration_s:g} s load + ~{CELL_OVERHEAD_S:g} s per point) = about "
            f"{estimate / 60:.1f} min; the budget holds {fits} points: fewer pool sizes or "
            "users levels, a shorter --duration or a larger --budget"
        )
    return estimate


def cells(
    record: SweepRecord,
    strategy: Strategy,
    database: DatabaseKind,
    scenario: Scenario,
    *,
    duration_s: float,
    async_driver: str | None = None,
) -> list[Cell]:
    """One cell per pool_size x users; the users level goes into the scenario's name, as
    `@rate=` does, so every point has its own cell id."""
    pools = [
        custom_pool(POOLS.get("default"), size, record.max_overflow, None)
        for size in record.pool_sizes
    ]
    return [
        cell
        for users in record.users
        for cell in expand(
            [strategy],
            [database],
            pools,
            [dataclasses.replace(scenario, name=f"{scenario.name}@users={users}")],
            duration_s=duration_s,
            users=users,
            async_driver=async_driver,
            target_workers=record.target_workers,
        )
    ]


def _reading_limits(record: SweepRecord) -> CellRunner:
    """Runs each point as `run` does; before the first, reads the server's limits into
    the record the run saves (the same object: `RunPlan.sweep`)."""

    def run(
        cell: Cell, server: DatabaseServer, children: ChildProcesses, celldir: Path
    ) -> CellResult:
        if record.server is None:
            record.server = read_limits(server)
        return run_cell(cell, server, children, celldir)

    return run


def plan(
    record: SweepRecord,
    strategy: Strategy,
    database: DatabaseKind,
    scenario: Scenario,
    *,
    duration_s: float,
    repeat: int,
    budget_s: float,
    output_dir: Path,
    provision: ProvisionOptions,
    async_driver: str | None = None,
) -> tuple[RunPlan, float]:
    """The run plan and its estimated seconds; UsageError for a grid the budget cannot hold."""
    if "seed" in strategy.tags or strategy.fixed_database:
        raise UsageError(f"{strategy.name} keeps its own engine arguments: no pool to sweep")
    if not strategy.runs_on(database.name):
        raise UsageError(f"{strategy.name} does not run on {database.name}")
    grid = cells(
        record, strategy, database, scenario, duration_s=duration_s, async_driver=async_driver
    )
    estimate = check_budget(len(grid), repeat, duration_s, budget_s)
    run_plan = RunPlan(
        cells=grid, output_dir=output_dir, provision=provision, repeat=repeat,
        run_cell=_reading_limits(record), sweep=record,
    )  # fmt: skip
    return run_plan, estimate
