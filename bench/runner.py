"""Running a matrix of cells: provision, start the target, drive load, check, clean up.

Results are written after every cell, so an interrupted or failing run keeps what it
has measured.  A database that cannot be provisioned is skipped with its reason; a
cell that fails is recorded as an error and the run goes on.
"""

import shutil
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby, product
from pathlib import Path

from sqlalchemy import URL
from sqlalchemy.exc import SQLAlchemyError

from sessionbench.errors import CellError, CellSkipped, InfrastructureError, UsageError
from sessionbench.reading import ProbeReading
from sessionbench.results import (
    CellConfig,
    CellResult,
    DatabaseChecks,
    Diagnostics,
    LoadResult,
    RunResult,
    ServerAfter,
    Shard,
    SkippedCell,
    SkippedDatabase,
)
from sessionbench.sweep_record import SweepRecord
from sessionbench.targets.config import TargetConfig

from .consistency import ReadYourWrite, acknowledged_ids, missing_ids
from .databases.base import DatabaseServer, DatabaseUnavailable, first_line, pooled
from .databases.catalogue import ProvisionOptions, open_database
from .databases.containers import reap_containers
from .diagnosis import diagnose
from .fault_injection import FaultInjector, check_server, prepare_database, server_fault
from .fingerprint import environment
from .leftovers import owned_temp_dir, reap_temp_dirs
from .loadgen import drive, run_time_s
from .matrix import Cell
from .processes import ChildProcesses
from .sampler import ProbeSource, Sampler, ServerView
from .schema import check_database, create_schema
from .server import RunningTarget, running_target
from .server_limits import usable_connections
from .urls import mask, mask_argv, with_driver
from .venvs import PreparedSet, own_environment
from .worker_probes import probe_source, worker_readings
from .workers import drive as drive_workers

# After load: requests in flight get up to QUIESCE_MAX_S to finish (a blocked loop can
# take that long to drain), then pools get SETTLE_S to settle, so that what is still
# held afterwards is really held.
QUIESCE_MAX_S = 10.0
QUIESCE_POLL_S = 0.1
SETTLE_S = 1.0


@dataclass
class RunEvents:
    """Progress callbacks; the CLI prints them, tests may record them."""

    cell_started: Callable[[int, int, Cell], None] = lambda i, n, cell: None
    cell_finished: Callable[[CellResult], None] = lambda result: None
    database_skipped: Callable[[SkippedDatabase], None] = lambda skipped: None
    cell_skipped: Callable[[SkippedCell], None] = lambda skipped: None


CellRunner = Callable[[Cell, DatabaseServer, ChildProcesses, Path], CellResult]


@dataclass
class RunPlan:
    cells: list[Cell]
    output_dir: Path
    provision: ProvisionOptions = field(default_factory=ProvisionOptions)
    repeat: int = 1  # runs of each cell; repeats share the cell id, `repeat` numbers them
    run_cell: CellRunner | None = None  # how a cell runs; default: a built-in target
    matrix: str | None = None  # identity of the whole matrix, when `cells` is one shard of it
    shard: Shard | None = None
    # Version sets by label (venvs.prepared): those ready, and why the others are not.
    environments: dict[str, PreparedSet] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    sweep: SweepRecord | None = None  # a pool-sizing sweep's record, saved with the run


def _cell_config(cell: Cell, url: str, packages: dict[str, str]) -> CellConfig:
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
        added_delay_ms=cell.added_delay_ms,
        rate=list(cell.rate),
        added_error_rate=cell.added_error_rate,
        version_set=cell.version_set,
        packages=packages,
        target_workers=cell.target_workers,
    )


def quiesce(probes: ProbeSource) -> float:
    """Wait for the requests still in flight to finish (up to a limit), then let pools
    settle; what still runs after that is recorded by the final reading as in flight."""
    started = time.monotonic()
    while time.monotonic() - started < QUIESCE_MAX_S:
        reading = probes.read()
        if reading is not None and reading.requests.in_flight == 0:
            break
        time.sleep(QUIESCE_POLL_S)
    time.sleep(SETTLE_S)
    return time.monotonic() - started


def _measure(
    cell: Cell,
    url: URL,
    running: RunningTarget,
    children: ChildProcesses,
    celldir: Path,
    injector: FaultInjector | None = None,
) -> tuple[LoadResult, DatabaseChecks, Diagnostics | None]:
    """Load with sampling (and the scenario's fault), quiesce, then read the probes and
    the database."""
    server_view = ServerView(url, _application_name(cell))
    probes = probe_source(running)
    ack_file = celldir / "acknowledged.json"
    try:
        with (
            Sampler(probes, server_view, running.pids) as sampler,
            # Off under a fault: its requests would take the dead connections the
            # fault left in the pool, hiding them from the load's figures.
            ReadYourWrite(running.base_url, enabled=injector is None) as read_your_write,
            injector or nullcontext(),
        ):
            side_files = {"SESSIONBENCH_ACK_FILE": str(ack_file)}
            side_files |= injector.env() if injector else {}
            load = (
                drive_workers(
                    running.base_url, cell.scenario, cell.users, cell.duration_s, children,
                    celldir, cell.workers, extra_env=side_files,
                )
                if cell.workers
                else drive(
                    running.base_url, cell.scenario, cell.users, cell.duration_s, children,
                    celldir, extra_env=side_files, rate=list(cell.rate),
                )
            )  # fmt: skip
        load = load.model_copy(update={"target_cpu_s": sampler.target_cpu_s})
        if injector is not None:
            load.fault = injector.recovery(load.duration_s)
        running.ensure_alive()  # a target that died under load: this cell's error
        quiesce_s = quiesce(probes)
        final = probes.read(final=True)
        server_after = server_view.read()
        workers = worker_readings(probes, server_view)
    finally:
        server_view.close()
        probes.close()
    ids = acknowledged_ids(ack_file)
    checks = check_database(url).model_copy(
        update={
            "acknowledged_writes": len(ids),
            "missing_writes": missing_ids(url, ids),
            "read_your_write_probes": read_your_write.probes,
            "read_your_write_misses": read_your_write.misses,
        }
    )
    if final is None:  # probes off, or the target did not answer after quiesce
        return load, checks, None
    diagnostics = diagnostics_of(final, probes, sampler, quiesce_s, server_after)
    diagnostics.workers = workers
    return load, checks, diagnostics


def diagnostics_of(
    final: ProbeReading,
    probes: ProbeSource,
    sampler: Sampler,
    quiesce_s: float,
    server_after: tuple[int, int, float] | None,
) -> Diagnostics:
    """The final reading with everything gathered around it, as the rules read it."""
    final.stalls = []  # kept once, in the stall log
    return Diagnostics(
        samples=sampler.samples,
        final=final,
        stalls=probes.stall_log.stalls,
        stacks=probes.stall_log.stacks,
        stalls_missed=probes.stall_log.missed,
        quiesce_s=round(quiesce_s, 3),
        server_after=(
            ServerAfter(server_connections=server_after[0], idle_in_transaction=server_after[1])
            if server_after
            else None
        ),
        idle_in_transaction_max_age_s=sampler.idle_in_transaction_max_age_s,
    )


def _application_name(cell: Cell) -> str:
    return f"sessionbench-{cell.strategy.name}"[:63]


def run_cell(
    cell: Cell,
    server: DatabaseServer,
    children: ChildProcesses,
    celldir: Path,
    environment: PreparedSet | None = None,
) -> CellResult:
    """Raises CellSkipped when the target cannot be built in the cell's environment."""
    started, clock = datetime.now(UTC), time.monotonic()
    environment = environment or own_environment()
    config = _cell_config(cell, "", environment.packages)
    expected = list(cell.strategy.expected_findings)
    fault = server_fault(cell)
    if fault is not None:
        check_server(fault, server)
    try:
        with server.fresh_database(cell.slug) as url:
            driver_url = with_driver(pooled(server, url), cell.driver)
            config = _cell_config(
                cell, cell.strategy.fixed_database or mask(driver_url), environment.packages
            )
            create_schema(url)
            prepare_database(fault, server, url)
            target = TargetConfig(
                strategy=cell.strategy.name,
                database_url=driver_url.render_as_string(hide_password=False),
                pool=cell.pool,
                added_delay_ms=cell.added_delay_ms,
                added_error_rate=cell.added_error_rate,
                application_name=_application_name(cell),
                probes=cell.probes,
            )
            injector = (
                None
                if fault is None
                else FaultInjector(
                    fault, server, url, _application_name(cell), celldir,
                    run_time_s(cell.duration_s),
                )
            )  # fmt: skip
            server_limit = usable_connections(url)
            config = config.model_copy(update={"server_max_connections": server_limit})
            with running_target(
                target, children, celldir, environment.python, cell.target_workers
            ) as running:
                load, checks, diagnostics = _measure(
                    cell, url, running, children, celldir, injector
                )
    except (CellError, InfrastructureError, SQLAlchemyError) as exc:
        # A database that went away mid-cell is this cell's error; the run goes on.
        error = (
            f"database error: {first_line(exc)}" if isinstance(exc, SQLAlchemyError) else str(exc)
        )
        return CellResult(
            config=config, status="error", error=error, started_at=started,
            wall_s=time.monotonic() - clock, expected_findings=expected,
        )  # fmt: skip
    result = CellResult(
        config=config, status="ok", load=load, checks=checks, diagnostics=diagnostics,
        expected_findings=expected, started_at=started, wall_s=time.monotonic() - clock,
    )  # fmt: skip
    result.findings = diagnose(result)
    return result


def _run_in_environment(
    plan: RunPlan, cell: Cell, server: DatabaseServer, children: ChildProcesses, celldir: Path
) -> CellResult:
    if cell.version_set in plan.unavailable:
        raise CellSkipped(plan.unavailable[cell.version_set])
    if plan.run_cell is not None:  # a user's own app runs in its own environment
        return plan.run_cell(cell, server, children, celldir)
    return run_cell(cell, server, children, celldir, plan.environments.get(cell.version_set))


def _skip(result: RunResult, cell: Cell, reason: str, events: RunEvents) -> None:
    """Recorded once per cell, however many repeats were asked for."""
    if any(skipped.id == cell.id for skipped in result.skipped_cells):
        return
    skipped = SkippedCell(id=cell.id, version_set=cell.version_set, reason=reason)
    result.skipped_cells.append(skipped)
    events.cell_skipped(skipped)


def execute(plan: RunPlan, events: RunEvents | None = None) -> RunResult:
    events = events or RunEvents()
    # Absolute, since children (Locust) run in other working directories.
    output_dir = plan.output_dir.resolve()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot use {plan.output_dir} as output directory: {exc.strerror}"
        ) from None
    results_path = output_dir / "results.json"
    result = RunResult(
        started_at=datetime.now(UTC), command=mask_argv(sys.argv), environment=environment(),
        matrix=plan.matrix, shard=plan.shard, sweep=plan.sweep,
    )  # fmt: skip
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
                        # Repeats go round the cells, so slow drift hits every cell alike.
                        for repeat, cell in product(range(plan.repeat), cells):
                            index += 1
                            events.cell_started(index, len(plan.cells) * plan.repeat, cell)
                            suffix = f"-r{repeat}" if plan.repeat > 1 else ""
                            celldir = output_dir / f"{cell.slug}{suffix}"
                            celldir.mkdir(exist_ok=True)
                            try:
                                cell_result = _run_in_environment(
                                    plan, cell, server, children, celldir
                                )
                            except CellSkipped as exc:
                                _skip(result, cell, str(exc), events)
                                result.write(results_path)
                                continue
                            cell_result.repeat = repeat
                            cell_result.shard = plan.shard.index if plan.shard else None
                            result.cells.append(cell_result)
                            result.write(results_path)
                            events.cell_finished(cell_result)
                except DatabaseUnavailable as exc:
                    index += len(cells) * plan.repeat
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
