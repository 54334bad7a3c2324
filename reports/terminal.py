"""The terminal summary of a run (Rich): one row per cell."""

from rich.console import Console
from rich.table import Table

from sessionbench.bench.results import CellResult, RunResult


def _errors(cell: CellResult) -> str:
    if cell.load is None:
        return "-"
    return str(cell.load.failures)


def summary_table(result: RunResult) -> Table:
    table = Table(title="sessionbench results (closed-model latencies from Locust)")
    for column in ("strategy", "database", "pool", "scenario"):
        table.add_column(column)
    for column in ("req/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="right")
    table.add_column("status")
    for cell in result.cells:
        config, load = cell.config, cell.load
        numbers = (
            [f"{load.requests_per_s:,.0f}", f"{load.p50_ms:.0f}", f"{load.p99_ms:.0f}"]
            if load
            else ["-", "-", "-"]
        )
        status = "ok" if cell.status == "ok" else f"[red]error: {cell.error}[/red]"
        if load and load.generator_saturated:
            status += " [yellow](load generator CPU saturated)[/yellow]"
        table.add_row(
            config.strategy,
            f"{config.database}+{config.driver}",
            config.pool.name,
            config.scenario,
            *numbers,
            _errors(cell),
            status,
        )
    return table


def print_summary(result: RunResult, console: Console) -> None:
    console.print(summary_table(result))
