"""Running a matrix of cells: provision, start the target, drive load, check, clean up.

Results are written after every cell, so an interrupted or failing run keeps what it
has measured.  A database that cannot be provisioned is skipped with its reason; a
cell that fails is recorded as an error and the run goes on.
"""

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from sessionbench.targets.config import TargetConfig

from .databases.base import DatabaseServer, DatabaseUnavailable, first_line
from .databases.catalogue import ProvisionOptions, open_database
from .databases.containers import reap_containers
from .errors import CellError, InfrastructureError, UsageError
from .fingerprint import environment
from .leftovers import owned_temp_dir, reap_temp_dirs
from .loadgen import drive
from .matrix import Cell
from .processes import ChildProcesses
from .results import CellConfig, CellResult, RunResult, SkippedDatabase
from .schema import check_database, create_schema
from .server import running_target
from .urls import mask, mask_argv, with_driver


@dataclass
class RunEvents:
    """Progress callbacks; the CLI prints them, tests may record them."""

    cell_started: Callable[[int, int, Cell], None] = lambda i, n, cell: None
    cell_finished: Callable[[CellResult], None] = lambda result: None
    database_skipped: Callable[[SkippedDatabase], None] = lambda skipped: None


@dataclass
class RunPlan:
    cells: list[Cell]
    output_dir: Path
    provision: ProvisionOptions = field(default_factory=ProvisionOptions)


def _cell_config(cell: Cell, url: str) -> CellConfig:
    return CellConfig(
        id=cell.id,
        strategy=cell.strategy.name,
        database=cell.database.name,
        driver=cell.driver,
        database_url=url,
        pool=cell.pool,
        scenario=cell.scenario.name,
        users=cell.users,
        duration_s=cell.duration_s,
        tasks=cell.scenario.tasks,
        slow_ms=cell.scenario.slow_ms,
    )


def run_cell(
    cell: Cell, server: DatabaseServer, children: ChildProcesses, celldir: Path
) -> CellResult:
    started, clock = datetime.now(UTC), time.monotonic()
    config = _cell_config(cell, "")
    try:
        with server.fresh_database(cell.slug) as url:
            driver_url = with_driver(url, cell.driver)
            config = _cell_config(cell, mask(driver_url))
            create_schema(url)
            target = TargetConfig(
                strategy=cell.strategy.name,
                database_url=driver_url.render_as_string(hide_password=False),
                pool=cell.pool,
                application_name=f"sessionbench-{cell.strategy.name}"[:63],
            )
            with running_target(target, children, celldir) as running:
                load = drive(
                    running.base_url, cell.scenario, cell.users, cell.duration_s, children, celldir
                )
                running.ensure_alive()
            checks = check_database(url)
    except (CellError, InfrastructureError, SQLAlchemyError) as exc:
        # SQLAlchemy's errors: the database went away while the harness was using it.
        error = (
            f"database error: {first_line(exc)}" if isinstance(exc, SQLAlchemyError) else str(exc)
        )
        return CellResult(
            config=config, status="error", error=error, started_at=started,
            wall_s=time.monotonic() - clock,
        )  # fmt: skip
    return CellResult(
        config=config, status="ok", load=load, checks=checks, started_at=started,
        wall_s=time.monotonic() - clock,
    )  # fmt: skip


def execute(plan: RunPlan, events: RunEvents | None = None) -> RunResult:
    events = events or RunEvents()
    try:
        plan.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot use {plan.output_dir} as output directory: {exc.strerror}"
        ) from None
    results_path = plan.output_dir / "results.json"
    result = RunResult(
        started_at=datetime.now(UTC), command=mask_argv(sys.argv), environment=environment()
    )
    reap_temp_dirs()
    reap_containers()
    workdir = owned_temp_dir()
    try:
        with ChildProcesses() as children:
            index = 0
            for kind, group in groupby(plan.cells, key=lambda c: c.database):
                cells = list(group)
                try:
                    with open_database(kind.name, plan.provision, children, workdir) as server:
                        result.environment.database_servers[kind.name] = server.server_version
                        for cell in cells:
                            index += 1
                            events.cell_started(index, len(plan.cells), cell)
                            celldir = plan.output_dir / cell.slug
                            celldir.mkdir(exist_ok=True)
                            cell_result = run_cell(cell, server, children, celldir)
                            result.cells.append(cell_result)
                            result.write(results_path)
                            events.cell_finished(cell_result)
                except DatabaseUnavailable as exc:
                    index += len(cells)
                    skipped = SkippedDatabase(database=kind.name, reason=str(exc))
                    result.skipped.append(skipped)
                    events.database_skipped(skipped)
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        result.finished_at = datetime.now(UTC)
        result.write(results_path)
        shutil.rmtree(workdir, ignore_errors=True)
    return result
