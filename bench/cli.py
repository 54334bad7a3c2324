"""The `sessionbench` command line: thin; each command hands off to a module."""

import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from sessionbench.errors import ExitCode, SessionbenchError, UsageError
from sessionbench.registry import UnknownNameError
from sessionbench.reports import sweep_analysis, sweep_section
from sessionbench.reports.terminal import print_summary
from sessionbench.reports.thresholds import DEFAULT_FAIL_ON
from sessionbench.results import CellResult, RunResult, SkippedCell, SkippedDatabase
from sessionbench.scenarios.catalogue import ScenarioFileError, load_scenarios
from sessionbench.sweep_record import SweepRecord
from sessionbench.targets.pools import POOLS, custom_pool
from sessionbench.targets.registry import default_strategies, strategies

from . import (
    calibrate_driver,
    calibrate_gate,
    calibrate_probes,
    calibrate_verdicts,
    compare_command,
    diagnose_command,
    listing,
    merge_command,
    micro_command,
    report_command,
    resultfile,
    strategy_comparison,
    sweep_command,
    worker_command,
)
from .config_file import load_project_settings, prefer_command_line
from .databases.catalogue import DATABASES, ProvisionOptions
from .fault_injection import check_cells
from .matrix import Cell, expand, format_rate
from .ownapp.plan import AppOptions, app_options, app_plan
from .ownapp.target import DEFAULT_URL_ENV
from .runner import RunEvents, RunPlan, execute
from .shard import identity, parse_shard, select
from .urls import check_async_driver, mask_argv
from .venvs import prepared
from .versions import across, parse_sets
from .workers import MAX_WORKERS, check_workers

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
MAX_RATE = 5000.0  # arrivals/s: beyond what one Locust process can send
MAX_RATE_STEPS = 20
# Each target worker is a whole interpreter with its own pool: beyond 16 on one machine
# the workers measure the machine's scheduler, not the session strategy.
MAX_TARGET_WORKERS = 16
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


def parse_rate(text: str) -> tuple[float, ...]:
    """`50` (arrivals/s, constant) or `20,40,80` (equal steps over the load window)."""
    steps = text.split(",")
    try:
        rate = tuple(float(step) for step in steps)
    except ValueError:
        raise UsageError(
            f"invalid --rate {text!r}: use arrivals per second, e.g. 50 or 20,40,80"
        ) from None
    if not all(0 < r <= MAX_RATE for r in rate) or len(rate) > MAX_RATE_STEPS:
        raise UsageError(
            f"--rate {text!r} out of range: 1 to {MAX_RATE_STEPS} steps, "
            f"each above 0 and at most {MAX_RATE:.0f} arrivals/s"
        )
    return rate


def _print_started(index: int, total: int, cell: Cell) -> None:
    load = (
        f"{format_rate(cell.rate)} arrivals/s, a pool of {cell.users} users"
        if cell.rate
        else f"{cell.users} users"
    )
    console.print(
        f"[bold][{index}/{total}][/bold] {escape(cell.id)}: {cell.duration_s:.0f} s, {load}",
        highlight=False,
    )


def _print_finished(result: CellResult) -> None:
    if result.load is None:
        console.print(f"    [red]error:[/red] {escape(result.error or '')}", highlight=False)
        return
    load = result.load
    line = (
        f"    {load.requests_per_s:,.0f} req/s, {100 * load.error_rate:.1f} % errors, "
        f"{load.unfinished} unfinished; {load.latency_model} p99 "
        f"{'>= ' * ('p99' in load.censored)}{load.p99_ms:,.0f} ms"
    )
    if load.latency_model == "open":
        line += (
            f"; arrivals {load.achieved_rate:,.1f}/{load.intended_rate:,.1f} per s, "
            f"{load.late_arrivals} late, {load.dropped_arrivals} dropped"
        )
    console.print(f"{line} ({result.wall_s:.0f} s)", highlight=False)
    app = result.config.app
    for skipped in app.skipped_operations if app else []:
        console.print(f"    skipped (cannot fill): {skipped}", highlight=False)
    if load.client_errors:
        answers = sum(e.occurrences for e in load.client_errors)
        console.print(
            f"    {answers} 4xx answers to generated requests (not failures)", highlight=False
        )


def _print_skipped(skipped: SkippedDatabase) -> None:
    print(f"sessionbench: {skipped.reason}", file=sys.stderr)


def _print_cell_skipped(skipped: SkippedCell) -> None:
    console.print(f"    [yellow]skipped:[/yellow] {skipped.reason}", highlight=False)


def _print_progress(line: str) -> None:
    console.print(f"versions: {line}", highlight=False, markup=False)


def check_target_workers(target_workers: int) -> None:
    if not 1 <= target_workers <= MAX_TARGET_WORKERS:
        raise UsageError(
            f"--target-workers must be between 1 and {MAX_TARGET_WORKERS}, got {target_workers}"
        )


def exit_code_for(result: RunResult) -> ExitCode:
    if any(cell.status == "error" for cell in result.cells):
        return ExitCode.CHECK_FAILED
    if result.skipped or result.skipped_cells:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.OK


@app.command()
def run(
    ctx: typer.Context,
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
        int,
        typer.Option(
            help="runs of each cell, for the gate's statistics (5 or more for one cell, "
            "6 to 8 for a matrix)"
        ),
    ] = 1,
    rate: Annotated[
        str | None,
        typer.Option(
            help="open model: arrivals per second, e.g. 50, or 20,40,80 for equal steps "
            "over the load time; --users is then the pool of users (default: one second "
            "of the peak rate)"
        ),
    ] = None,
    app_: Annotated[
        str | None,
        typer.Option("--app", help="your own app, MODULE:ATTR as uvicorn takes it"),
    ] = None,
    app_dir: Annotated[Path | None, typer.Option(help="put first on sys.path")] = None,
    factory: Annotated[bool, typer.Option(help="ATTR is a factory returning the app")] = False,
    name: Annotated[
        str | None, typer.Option(help="the app's name in results; default: --app")
    ] = None,
    url_env: Annotated[
        str, typer.Option(help="variable the app reads its database URL from")
    ] = DEFAULT_URL_ENV,
    database_url: Annotated[
        str | None, typer.Option(help="hand the app this URL verbatim (no --db)")
    ] = None,
    driver: Annotated[
        list[str] | None,
        typer.Option(help="the app's driver per backend, e.g. asyncpg (repeatable)"),
    ] = None,
    alembic_ini: Annotated[
        Path | None, typer.Option(help="schema: the app's Alembic migrations")
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="schema: create_all of MODULE:ATTR")] = None,
    locustfile: Annotated[Path | None, typer.Option(help="load: your own locustfile")] = None,
    requests: Annotated[
        Path | None, typer.Option(help="load: a TOML file of your requests")
    ] = None,
    probes: Annotated[bool, typer.Option(help="install the probes in the app")] = True,
    startup_timeout: Annotated[str, typer.Option(help="time the app may take to answer")] = "30s",
    target_url: Annotated[
        str | None, typer.Option(help="measure an app already running there (not started)")
    ] = None,
    application_name: Annotated[
        str | None,
        typer.Option(help="with --target-url: the application_name of the app's connections"),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="rank the chosen strategies with confidence: a pilot sizes the repeats "
            "needed on this machine, within --budget",
        ),
    ] = False,
    budget: Annotated[str, typer.Option(help="time allowed for --compare, e.g. 5m")] = "5m",
    shard: Annotated[
        str | None,
        typer.Option(help="run only part INDEX of the matrix split in COUNT, e.g. 2/4"),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Locust worker processes on this machine (0: one Locust process)")
    ] = 0,
    target_workers: Annotated[
        int,
        typer.Option(help="uvicorn worker processes of the target, each with its own pool"),
    ] = 1,
    remote_workers: Annotated[
        int, typer.Option(help="Locust workers joining from other machines (sessionbench worker)")
    ] = 0,
    master_bind: Annotated[
        str | None,
        typer.Option(help="HOST:PORT the Locust master listens on; default 127.0.0.1, free port"),
    ] = None,
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
    given = {
        n for n in ctx.params if (src := ctx.get_parameter_source(n)) and src.name != "DEFAULT"
    }
    settings = prefer_command_line(
        {"app": app_, "app_dir": app_dir, "factory": factory, "name": name, "url_env": url_env,
         "database_url": database_url, "driver": driver, "alembic_ini": alembic_ini,
         "metadata": metadata, "locustfile": locustfile, "requests": requests, "db": db,
         "duration": duration, "users": users, "repeat": repeat, "probes": probes,
         "output": output, "target_url": target_url, "application_name": application_name,
         "target_workers": target_workers},
        {"app" if n == "app_" else n for n in given},
        load_project_settings(),
    )  # fmt: skip
    db, duration, users, repeat, output = (
        settings["db"], settings["duration"], settings["users"], settings["repeat"],
        settings["output"],
    )  # fmt: skip
    target_workers = settings["target_workers"]
    if compare and repeat != 1:
        raise UsageError("--compare sizes the repeats itself: leave out --repeat")
    chosen_shard = parse_shard(shard) if shard is not None else None
    chosen_workers = check_workers(workers, remote_workers, master_bind)
    if remote_workers and scenario is not None and len(scenario) > 1:
        raise UsageError("--remote-workers takes one --scenario: remote workers run one")
    if chosen_workers and rate is not None:
        raise UsageError("--rate (the open model) runs in one Locust process: leave out --workers")
    check_target_workers(target_workers)
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
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    output_dir = output or Path("sessionbench-results") / stamp
    provision = ProvisionOptions(postgres_url=postgres_url, mysql_url=mysql_url)
    if settings["app"] is not None or settings["target_url"] is not None:
        if compare:
            raise UsageError("--compare ranks built-in strategies; your app is one target")
        if strategy or pool or scenario or scenario_file:
            raise UsageError(
                "--app runs your app with its own pool and load: "
                "--strategy, --pool, --scenario and --scenario-file do not apply"
            )
        plan = app_plan(
            app_options(
                settings, parse_duration(duration), parse_duration(startup_timeout), target_workers
            ),
            output_dir,
            repeat,
            provision,
        )
        _execute_and_report(plan)
    registry = strategies()
    scenarios = load_scenarios(*(scenario_file or []))
    chosen_strategies = [registry.get(n) for n in strategy] if strategy else default_strategies()
    version_sets = parse_sets(with_requirements or [], with_set or [])
    cells = expand(
        chosen_strategies,
        [DATABASES.get(n) for n in db or ["sqlite"]],
        [
            custom_pool(POOLS.get(n), pool_size, max_overflow, pool_timeout)
            for n in pool or ["default"]
        ],
        [scenarios.get(n) for n in scenario or ["mixed"]],
        duration_s=parse_duration(duration),
        users=users,
        async_driver=async_driver and check_async_driver(async_driver),
        rate=parse_rate(rate) if rate is not None else (),
        workers=chosen_workers,
        target_workers=target_workers,
    )
    check_cells(cells)
    if not cells:
        raise UsageError(
            "no cells: "
            + "; ".join(
                f"{s.name} runs only on {', '.join(s.databases or ())}" for s in chosen_strategies
            )
        )
    all_cells = across(cells, version_sets)
    with prepared(version_sets, _print_progress) as (environments, unavailable):
        plan = RunPlan(
            cells=select(all_cells, repeat, chosen_shard) if chosen_shard else all_cells,
            output_dir=output_dir,
            repeat=repeat,
            provision=provision,
            matrix=identity(all_cells, repeat),
            shard=chosen_shard,
            environments=environments,
            unavailable=unavailable,
        )
        if chosen_shard:
            console.print(
                f"shard {chosen_shard}: {len(plan.cells)} of {len(all_cells)} cells "
                f"(matrix {plan.matrix})",
                highlight=False,
            )
        _execute_and_report(plan, parse_duration(budget) if compare else None)


def _execute_and_report(
    plan: RunPlan, compare_budget_s: float | None = None, events: RunEvents | None = None
) -> NoReturn:
    if compare_budget_s is not None:
        result = strategy_comparison.run(
            cells=plan.cells, output=plan.output_dir, provision=plan.provision,
            budget_s=compare_budget_s, console=console,
        )  # fmt: skip
    else:
        events = events or RunEvents(
            _print_started, _print_finished, _print_skipped, _print_cell_skipped
        )
        result = execute(plan, events)
    print_summary(result, console)
    console.print(f"results: {plan.output_dir / 'results.json'}", highlight=False)
    try:
        for path in report_command.write_default_reports(result, plan.output_dir):
            console.print(f"report: {path}", highlight=False)
    except SessionbenchError as exc:  # the results are written already
        print(f"sessionbench: reports not written: {exc}", file=sys.stderr)
    raise typer.Exit(exit_code_for(result))


def _print_point(result: CellResult) -> None:
    _print_finished(result)
    if result.load is not None:
        point = sweep_analysis.point_of(result)
        console.print(f"    {sweep_section.progress(point)}", highlight=False)


@app.command()
def sweep(
    strategy: Annotated[str, typer.Option("--strategy", "-s", help="the strategy to size")],
    db: Annotated[str, typer.Option("--db", "-d", help="database")] = "postgres",
    scenario: Annotated[str, typer.Option(help="scenario")] = "slow",
    pool_size: Annotated[str, typer.Option(help="pool sizes to try")] = "2,5,10,20",
    users: Annotated[str, typer.Option(help="concurrent users levels")] = "8,16,32",
    max_overflow: Annotated[int, typer.Option(help="max_overflow of every point")] = 0,
    target_workers: Annotated[
        int, typer.Option(help="the target's worker processes at every point, each a pool")
    ] = 1,
    duration: Annotated[str, typer.Option(help="load time per point")] = "5s",
    repeat: Annotated[
        int, typer.Option(help="runs of each point (their spread sets the knee's tolerance)")
    ] = 1,
    budget: Annotated[str, typer.Option(help="time the whole grid may take, e.g. 10m")] = "10m",
    async_driver: Annotated[str | None, typer.Option(help="Postgres async driver")] = None,
    postgres_url: Annotated[str | None, typer.Option(help="Postgres server to use")] = None,
    mysql_url: Annotated[str | None, typer.Option(help="MySQL/MariaDB server to use")] = None,
    output: Annotated[Path | None, typer.Option(help="directory for results and reports")] = None,
) -> None:
    """Pool sizing: pool_size x users for one strategy; the knee per users level, a
    recommended pool size and the arithmetic against the server's max_connections."""
    if not 1 <= repeat <= MAX_REPEAT:
        raise UsageError(f"--repeat must be between 1 and {MAX_REPEAT}, got {repeat}")
    if max_overflow < -1:
        raise UsageError(f"--max-overflow must be -1 (unlimited) or more, got {max_overflow}")
    check_target_workers(target_workers)
    record = SweepRecord(
        strategy=strategy, database=db, scenario=scenario, max_overflow=max_overflow,
        target_workers=target_workers,
        pool_sizes=sweep_command.parse_counts("--pool-size", pool_size),
        users=sweep_command.parse_counts("--users", users),
    )  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    plan, estimate_s = sweep_command.plan(
        record, strategies().get(strategy), DATABASES.get(db), load_scenarios().get(scenario),
        duration_s=parse_duration(duration), repeat=repeat, budget_s=parse_duration(budget),
        output_dir=output or Path("sessionbench-results") / f"sweep-{stamp}",
        provision=ProvisionOptions(postgres_url=postgres_url, mysql_url=mysql_url),
        async_driver=async_driver and check_async_driver(async_driver),
    )  # fmt: skip
    console.print(
        f"sweep: {len(plan.cells)} points x {repeat} repeat(s), about {estimate_s / 60:.1f} min",
        highlight=False,
    )
    events = RunEvents(_print_started, _print_point, _print_skipped, _print_cell_skipped)
    _execute_and_report(plan, events=events)


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
    ctx: typer.Context,
    base: Annotated[Path, typer.Argument(help="baseline results.json")],
    new: Annotated[Path, typer.Argument(help="candidate results.json")],
    fail_on: Annotated[
        str,
        typer.Option(
            help="allowed change per metric in its bad direction; the defaults need 5 "
            "repeats a side for one cell, 6 to 8 for a matrix (the verdict's power check "
            "says what yours can detect)"
        ),
    ] = DEFAULT_FAIL_ON,
    strict: Annotated[
        bool, typer.Option(help="refuse (exit 2) when configurations or environments differ")
    ] = False,
    markdown: Annotated[Path | None, typer.Option(help="write the verdict as Markdown")] = None,
    junit: Annotated[Path | None, typer.Option(help="write the verdict as JUnit XML")] = None,
    export_gab: Annotated[
        Path | None,
        typer.Option(
            help="directory for github-action-benchmark files "
            "(customBiggerIsBetter.json, customSmallerIsBetter.json)"
        ),
    ] = None,
    export_bmf: Annotated[
        Path | None, typer.Option(help="file for Bencher's metric format (BMF JSON)")
    ] = None,
    base_set: Annotated[
        str | None,
        typer.Option(help="compare only BASE's cells under this version set ('installed': none)"),
    ] = None,
    new_set: Annotated[
        str | None, typer.Option(help="compare only NEW's cells under this version set")
    ] = None,
) -> None:
    """Gate: exit 1 when NEW regresses against BASE (significant and beyond threshold)."""
    source = ctx.get_parameter_source("fail_on")
    configured = load_project_settings().fail_on
    if configured is not None and (source is None or source.name == "DEFAULT"):
        fail_on = configured
    code = compare_command.run(
        base=base, new=new, fail_on=fail_on, strict=strict, markdown=markdown, junit=junit,
        export_gab=export_gab, export_bmf=export_bmf, console=console,
        base_set=base_set, new_set=new_set,
    )  # fmt: skip
    raise typer.Exit(code)


@app.command()
def merge(
    results: Annotated[list[Path], typer.Argument(help="results.json of each shard")],
    output: Annotated[Path, typer.Option(help="the merged results file to write")],
    partial: Annotated[bool, typer.Option(help="merge even if some shards are missing")] = False,
) -> None:
    """Merge the shards of one matrix (`run --shard I/N`) into one results file."""
    cells = merge_command.run(
        results=results, output=output, command=mask_argv(sys.argv), partial=partial
    )
    console.print(f"merged {cells} cells from {len(results)} files: {output}", highlight=False)


@app.command()
def worker(
    master: Annotated[
        str, typer.Option(help="HOST:PORT of the run's Locust master (its --master-bind)")
    ],
    scenario: Annotated[str, typer.Option(help="the run's scenario")] = "mixed",
    scenario_file: Annotated[
        list[Path] | None, typer.Option(help="TOML file of extra scenarios (repeatable)")
    ] = None,
) -> None:
    """Join a run's Locust master as a worker, cell after cell, until the run is over."""
    chosen = load_scenarios(*(scenario_file or [])).get(scenario)
    raise typer.Exit(worker_command.run(master=master, scenario=chosen, console=console))


@calibrate_app.command("gate")
def calibrate_gate_command(
    runs: Annotated[
        int, typer.Option(help="runs of the single cell's arms (as is, slowed, errors)")
    ] = 16,
    matrix_runs: Annotated[int, typer.Option(help="runs of each 4-cell matrix arm")] = 6,
    duration: Annotated[str, typer.Option(help="load time per run")] = "5s",
    users: Annotated[int, typer.Option(help="concurrent users")] = 8,
    fail_on: Annotated[str, typer.Option(help="the gate's thresholds")] = DEFAULT_FAIL_ON,
    output: Annotated[Path | None, typer.Option(help="directory for the runs")] = None,
) -> None:
    """Calibrate the gate: A/A passes; A/B slowdowns, a matrix-wide slowdown and an error
    rate fail; 20 draws each."""
    if not 6 <= runs <= MAX_REPEAT or not 4 <= matrix_runs <= MAX_REPEAT:
        raise UsageError("--runs must be 6 to 100 and --matrix-runs 4 to 100")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    calibrate_gate.run(
        runs=runs, matrix_runs=matrix_runs, duration_s=parse_duration(duration), users=users,
        fail_on=fail_on, output=output or Path("sessionbench-results") / f"calibrate-{stamp}",
        console=console, events=RunEvents(_print_started, _print_finished, _print_skipped),
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
    workers: Annotated[
        list[int] | None,
        typer.Option("--workers", help="also measure Locust with N workers (repeatable)"),
    ] = None,
) -> None:
    """Is the load generator the bottleneck?  Locust against wrk on GET /health."""
    if any(not 1 <= n <= MAX_WORKERS for n in workers or []):
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}")
    ok = calibrate_driver.run(
        connections=connections,
        duration_s=round(parse_duration(duration)),
        rounds=rounds,
        console=console,
        workers=workers or [],
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
    app_: Annotated[
        str | None,
        typer.Option("--app", help="measure your own app instead, MODULE:ATTR (as `run --app`)"),
    ] = None,
    app_dir: Annotated[Path | None, typer.Option(help="with --app: put first on sys.path")] = None,
    factory: Annotated[bool, typer.Option(help="with --app: ATTR is a factory")] = False,
    driver: Annotated[
        list[str] | None, typer.Option(help="with --app: the driver the app expects")
    ] = None,
    users: Annotated[int | None, typer.Option(help="with --app: concurrent users")] = None,
    metadata: Annotated[
        str | None, typer.Option(help="with --app: MODULE:ATTR whose metadata builds the schema")
    ] = None,
    requests: Annotated[
        Path | None, typer.Option(help="with --app: TOML file of the requests to send")
    ] = None,
) -> None:
    """Loop-lag accuracy (stalls of 20, 50, 200 ms) and the probes' overhead."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    subject: calibrate_probes.OverheadCell | calibrate_probes.OverheadApp = (
        calibrate_probes.OverheadCell(strategy, scenario, db)
        if app_ is None
        else calibrate_probes.OverheadApp(
            AppOptions(
                app=app_,
                duration_s=parse_duration(duration),
                app_dir=app_dir,
                factory=factory,
                drivers=driver or [],
                databases=[db],
                users=users,
                metadata=metadata,
                requests=requests,
            )
        )
    )
    ok = calibrate_probes.run(
        output=output or Path("sessionbench-results") / f"calibrate-probes-{stamp}",
        rounds=rounds,
        duration_s=parse_duration(duration),
        subject=subject,
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
    # Started in the background by a script, a process inherits SIGINT ignored: Ctrl-C
    # (or a CI runner's interrupt) must still stop the run cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
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
