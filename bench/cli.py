"""The `sessionbench` command line: thin; each command hands off to a module."""

import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from typer.exceptions import TyperException

from sessionbench.errors import ExitCode, SessionbenchError, UsageError
from sessionbench.registry import UnknownNameError
from sessionbench.reports.terminal import print_summary
from sessionbench.reports.thresholds import DEFAULT_FAIL_ON
from sessionbench.results import CellResult, RunResult, SkippedCell, SkippedDatabase
from sessionbench.scenarios.catalogue import ScenarioFileError, load_scenarios
from sessionbench.targets.config import PoolSettings
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import default_strategies, strategies

from . import (
    calibrate_driver,
    calibrate_gate,
    calibrate_probes,
    calibrate_verdicts,
    compare_command,
    diagnose_command,
    listing,
    micro_command,
    report_command,
    resultfile,
)
from .databases.catalogue import DATABASES, ProvisionOptions
from .matrix import Cell, expand
from .runner import RunEvents, RunPlan, execute
from .urls import check_async_driver
from .venvs import prepared
from .versions import across, parse_sets

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Benchmark and diagnose how FastAPI apps use SQLAlchemy sessions.",
)
calibrate_app = typer.Typer(
    no_args_is_help=True, help="Check sessionbench's own measurements on this machine."
)
app.add_typer(calibrate_app, name="calibrate")
# Piped or logged output keeps full-width tables (Rich would assume 80 columns).
console = Console() if Console().is_terminal else Console(width=140)

MIN_DURATION_S, MAX_DURATION_S = 1.0, 3600.0
MAX_USERS = 1000
MAX_REPEAT = 100
DEFAULT_DURATION = "8s"


def parse_duration(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if not match:
        raise UsageError(f"invalid duration {text!r}: use e.g. 10s, 1.5m, 500ms")
    value = float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if not MIN_DURATION_S <= value <= MAX_DURATION_S:
        raise UsageError(
            f"duration {text!r} out of range: {MIN_DURATION_S:.0f} s to {MAX_DURATION_S:.0f} s"
        )
    return value


def _custom_pool(
    base: PoolSettings, size: int | None, overflow: int | None, timeout: float | None
) -> PoolSettings:
    changes = {
        k: v
        for k, v in {"pool_size": size, "max_overflow": overflow, "pool_timeout": timeout}.items()
        if v is not None
    }
    if not changes:
        return base
    label = ",".join(f"{k}={v}" for k, v in changes.items())
    return base.model_copy(update={**changes, "name": f"{base.name}[{label}]"})


def _print_started(index: int, total: int, cell: Cell) -> None:
    console.print(
        f"[bold][{index}/{total}][/bold] {cell.id}: "
        f"{cell.duration_s:.0f} s with {cell.users} users",
        highlight=False,
    )


def _print_finished(result: CellResult) -> None:
    if result.load is None:
        console.print(f"    [red]error:[/red] {result.error}", highlight=False)
        return
    load = result.load
    console.print(
        f"    {load.requests_per_s:,.0f} req/s, p99 {load.p99_ms:.0f} ms, "
        f"{load.failures} errors ({result.wall_s:.0f} s)",
        highlight=False,
    )


def _print_skipped(skipped: SkippedDatabase) -> None:
    print(f"sessionbench: {skipped.reason}", file=sys.stderr)


def _print_cell_skipped(skipped: SkippedCell) -> None:
    console.print(f"    [yellow]skipped:[/yellow] {skipped.reason}", highlight=False)


def _print_progress(line: str) -> None:
    console.print(f"versions: {line}", highlight=False, markup=False)


def exit_code_for(result: RunResult) -> ExitCode:
    if any(cell.status == "error" for cell in result.cells):
        return ExitCode.CHECK_FAILED
    if result.skipped or result.skipped_cells:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.OK


@app.command()
def run(
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            "-s",
            help="strategy (repeatable); default: the core and the known-bad strategies",
        ),
    ] = None,
    db: Annotated[
        list[str] | None, typer.Option("--db", "-d", help="database (repeatable); default: sqlite")
    ] = None,
    pool: Annotated[
        list[str] | None,
        typer.Option("--pool", "-p", help="pool variant (repeatable); default: default"),
    ] = None,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", help="scenario (repeatable); default: mixed")
    ] = None,
    scenario_file: Annotated[
        list[Path] | None,
        typer.Option(help="TOML file of extra scenarios, as scenarios/scenarios.toml (repeatable)"),
    ] = None,
    duration: Annotated[
        str, typer.Option(help="load time per cell, e.g. 10s, 1m")
    ] = DEFAULT_DURATION,
    users: Annotated[
        int | None, typer.Option(help="concurrent users; default: the scenario's")
    ] = None,
    pool_size: Annotated[
        int | None, typer.Option(help="override pool_size of the chosen variants")
    ] = None,
    max_overflow: Annotated[int | None, typer.Option(help="override max_overflow")] = None,
    pool_timeout: Annotated[float | None, typer.Option(help="override pool_timeout (s)")] = None,
    async_driver: Annotated[
        str | None, typer.Option(help="Postgres async driver: asyncpg (default) or psycopg")
    ] = None,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            help="Postgres server to use; else SESSIONBENCH_POSTGRES_URL, "
            "testcontainers, local binaries"
        ),
    ] = None,
    mysql_url: Annotated[
        str | None,
        typer.Option(
            help="MySQL/MariaDB server to use; else SESSIONBENCH_MYSQL_URL, testcontainers"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="directory for results.json and raw artefacts")
    ] = None,
    repeat: Annotated[
        int, typer.Option(help="runs of each cell, for the gate's statistics (3 or more)")
    ] = 1,
    with_requirements: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            help="pip requirement for the target's environment (repeatable; together one "
            "version set), e.g. 'fastapi==0.115.*'",
        ),
    ] = None,
    with_set: Annotated[
        list[str] | None,
        typer.Option(
            help="a version set: requirements separated by spaces, or 'installed' for "
            "sessionbench's own (repeatable: one matrix axis)",
        ),
    ] = None,
) -> None:
    """Run the matrix and print a summary; results.json is written after every cell."""
    if not 1 <= repeat <= MAX_REPEAT:
        raise UsageError(f"--repeat must be between 1 and {MAX_REPEAT}, got {repeat}")
    if users is not None and not 1 <= users <= MAX_USERS:
        raise UsageError(f"--users must be between 1 and {MAX_USERS}, got {users}")
    if pool_size is not None and pool_size < 1:
        raise UsageError(f"--pool-size must be at least 1, got {pool_size}")
    if max_overflow is not None and max_overflow < -1:
        raise UsageError(f"--max-overflow must be -1 (unlimited) or more, got {max_overflow}")
    if pool_timeout is not None and pool_timeout <= 0:
        raise UsageError(f"--pool-timeout must be positive, got {pool_timeout}")
    registry = strategies()
    scenarios = load_scenarios(*(scenario_file or []))
    chosen_strategies = [registry.get(n) for n in strategy] if strategy else default_strategies()
    version_sets = parse_sets(with_requirements or [], with_set or [])
    cells = expand(
        chosen_strategies,
        [DATABASES.get(n) for n in db or ["sqlite"]],
        [
            _custom_pool(POOLS.get(n), pool_size, max_overflow, pool_timeout)
            for n in pool or ["default"]
        ],
        [scenarios.get(n) for n in scenario or ["mixed"]],
        duration_s=parse_duration(duration),
        users=users,
        async_driver=async_driver and check_async_driver(async_driver),
    )
    if not cells:
        raise UsageError(
            "no cells: "
            + "; ".join(
                f"{s.name} runs only on {', '.join(s.databases or ())}" for s in chosen_strategies
            )
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with prepared(version_sets, _print_progress) as (environments, unavailable):
        plan = RunPlan(
            cells=across(cells, version_sets),
            output_dir=output or Path("sessionbench-results") / stamp,
            repeat=repeat,
            provision=ProvisionOptions(postgres_url=postgres_url, mysql_url=mysql_url),
            environments=environments,
            unavailable=unavailable,
        )
        events = RunEvents(_print_started, _print_finished, _print_skipped, _print_cell_skipped)
        result = execute(plan, events)
    print_summary(result, console)
    console.print(f"results: {plan.output_dir / 'results.json'}", highlight=False)
    try:
        for path in report_command.write_default_reports(result, plan.output_dir):
            console.print(f"report: {path}", highlight=False)
    except SessionbenchError as exc:  # the results are written already
        print(f"sessionbench: reports not written: {exc}", file=sys.stderr)
    raise typer.Exit(exit_code_for(result))


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="a results.json written by `run`")],
    format: Annotated[str, typer.Option("--format", "-f", help="html, md, junit or terminal")],
    output: Annotated[
        Path | None, typer.Option(help="file or directory to write; default: stdout")
    ] = None,
) -> None:
    """Regenerate a report from a results.json."""
    written = report_command.run(results=results, fmt=format, output=output)
    if written is not None:
        console.print(f"report: {written}", highlight=False)


@app.command()
def diagnose(
    results: Annotated[Path, typer.Argument(help="a results.json written by `run`")],
) -> None:
    """Run the diagnosis rules again on a saved run; rewrite its findings and reports."""
    outcome = diagnose_command.run(results=results)
    for line in outcome.changed:
        console.print(f"changed: {line}", highlight=False)
    if not outcome.changed:
        console.print("findings unchanged", highlight=False)
    print_summary(outcome.result, console)
    for path in [results, *outcome.reports]:
        console.print(f"written: {path}", highlight=False)


@app.command("compare")
def compare_runs(
    base: Annotated[Path, typer.Argument(help="baseline results.json")],
    new: Annotated[Path, typer.Argument(help="candidate results.json")],
    fail_on: Annotated[
        str, typer.Option(help="allowed change per metric in its bad direction")
    ] = DEFAULT_FAIL_ON,
    markdown: Annotated[Path | None, typer.Option(help="write the verdict as Markdown")] = None,
    junit: Annotated[Path | None, typer.Option(help="write the verdict as JUnit XML")] = None,
    base_set: Annotated[
        str | None,
        typer.Option(help="compare only BASE's cells under this version set ('installed': none)"),
    ] = None,
    new_set: Annotated[
        str | None, typer.Option(help="compare only NEW's cells under this version set")
    ] = None,
) -> None:
    """Gate: exit 1 when NEW regresses against BASE (significant and beyond threshold)."""
    code = compare_command.run(
        base=base, new=new, fail_on=fail_on, markdown=markdown, junit=junit, console=console,
        base_set=base_set, new_set=new_set,
    )  # fmt: skip
    raise typer.Exit(code)


@calibrate_app.command("gate")
def calibrate_gate_command(
    runs: Annotated[int, typer.Option(help="runs of each arm (as is, slowed)")] = 16,
    duration: Annotated[str, typer.Option(help="load time per run")] = "5s",
    users: Annotated[int, typer.Option(help="concurrent users")] = 8,
    slowdown: Annotated[float, typer.Option(help="injected slowdown of arm B")] = 0.25,
    fail_on: Annotated[str, typer.Option(help="the gate's thresholds")] = DEFAULT_FAIL_ON,
    output: Annotated[Path | None, typer.Option(help="directory for the runs")] = None,
) -> None:
    """Calibrate the gate: A/A passes and A/B (injected slowdown) fails, out of 20 each."""
    if not 6 <= runs <= MAX_REPEAT or not 0 < slowdown < 10:
        raise UsageError("--runs must be 6 to 100 and --slowdown in (0, 10)")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    calibrate_gate.run(
        runs=runs, duration_s=parse_duration(duration), users=users, slowdown=slowdown,
        fail_on=fail_on, output=output or Path("sessionbench-results") / f"calibrate-{stamp}",
        console=console,
    )  # fmt: skip


@calibrate_app.command("verdicts")
def calibrate_verdicts_command(
    repeat: Annotated[int, typer.Option(help="runs of the default matrix")] = 10,
    db: Annotated[str, typer.Option(help="database")] = "sqlite",
    duration: Annotated[str, typer.Option(help="load time per cell")] = DEFAULT_DURATION,
    results: Annotated[
        Path | None, typer.Option(help="analyse this results.json (with repeats) instead")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="directory for the runs")] = None,
) -> None:
    """Verdict stability: the default run N times; the verdict sets each cell got."""
    if results is not None:
        calibrate_verdicts.from_file(resultfile.load_result(results), console)
        return
    if not 2 <= repeat <= MAX_REPEAT:
        raise UsageError(f"--repeat must be between 2 and {MAX_REPEAT}, got {repeat}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    cells = expand(
        default_strategies(), [DATABASES.get(db)], [POOLS.get("default")],
        [load_scenarios().get("mixed")], duration_s=parse_duration(duration),
    )  # fmt: skip
    plan = RunPlan(
        cells=cells,
        output_dir=output or Path("sessionbench-results") / f"calibrate-verdicts-{stamp}",
        repeat=repeat,
    )
    calibrate_verdicts.run(plan=plan, console=console)


@calibrate_app.command("driver")
def calibrate_driver_command(
    connections: Annotated[int, typer.Option(help="connections for both wrk and Locust")] = 32,
    duration: Annotated[str, typer.Option(help="load time per measurement")] = "10s",
    rounds: Annotated[int, typer.Option(help="Locust runs, each between two wrk runs")] = 2,
) -> None:
    """Is the load generator the bottleneck?  Locust against wrk on GET /health."""
    ok = calibrate_driver.run(
        connections=connections,
        duration_s=round(parse_duration(duration)),
        rounds=rounds,
        console=console,
    )
    raise typer.Exit(ExitCode.OK if ok else ExitCode.CHECK_FAILED)


@calibrate_app.command("probes")
def calibrate_probes_command(
    rounds: Annotated[int, typer.Option(help="runs with probes on, and off, alternating")] = 3,
    duration: Annotated[str, typer.Option(help="load time per overhead run")] = "5s",
    output: Annotated[Path | None, typer.Option(help="directory for the overhead runs")] = None,
    strategy: Annotated[str, typer.Option(help="strategy of the overhead runs")] = "async-session",
    scenario: Annotated[str, typer.Option(help="scenario of the overhead runs")] = "crud",
    db: Annotated[str, typer.Option(help="database of the overhead runs")] = "sqlite",
) -> None:
    """Loop-lag accuracy (stalls of 20, 50, 200 ms) and the probes' overhead."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    ok = calibrate_probes.run(
        output=output or Path("sessionbench-results") / f"calibrate-probes-{stamp}",
        rounds=rounds,
        duration_s=parse_duration(duration),
        subject=calibrate_probes.OverheadCell(strategy, scenario, db),
        console=console,
    )
    raise typer.Exit(ExitCode.OK if ok else ExitCode.CHECK_FAILED)


@app.command()
def micro(
    db: Annotated[
        list[str] | None, typer.Option("--db", "-d", help="sqlite and/or postgres; default: sqlite")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="add the summaries to this results.json")
    ] = None,
    rounds: Annotated[int | None, typer.Option(help="exact rounds per benchmark (quick)")] = None,
    output: Annotated[Path | None, typer.Option(help="directory for a new results.json")] = None,
) -> None:
    """Run the in-process micro-benchmarks (pytest-benchmark) and store their results."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = micro_command.run(
        databases=db or ["sqlite"], results=results, rounds=rounds,
        output=output or Path("sessionbench-results") / f"micro-{stamp}",
    )  # fmt: skip
    console.print(f"results: {path}", highlight=False)


@app.command("list")
def list_catalogue() -> None:
    """List the strategies, databases, pool variants and scenarios sessionbench knows."""
    listing.print_catalogue(console)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into the same clean unwinding as Ctrl-C: children stopped, results kept.
    raise KeyboardInterrupt


def fail(message: str, code: int) -> None:
    """Bad input or missing infrastructure: one line on stderr, never a traceback."""
    print(f"sessionbench: error: {message}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = app(standalone_mode=False)
    except (SessionbenchError, UnknownNameError, ScenarioFileError) as exc:
        fail(str(exc), getattr(exc, "exit_code", ExitCode.USAGE))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except TyperException as exc:  # click's usage errors, re-exported by typer
        fail(getattr(exc, "format_message", exc.__str__)(), ExitCode.USAGE)
    except (typer.Abort, KeyboardInterrupt):
        print("sessionbench: interrupted; results measured so far are kept", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
