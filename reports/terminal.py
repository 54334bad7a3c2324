"""The terminal summary of a run (Rich): verdicts and findings first, then the numbers."""

import io

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sessionbench.results import RunResult

from .summary import CellSummary, Verdict, format_number, summarise

STYLES = {
    Verdict.HEALTHY: "green",
    Verdict.WARNING: "yellow",
    Verdict.UNHEALTHY: "red",
    Verdict.ERROR: "bold red",
}


def _verdict_lines(summary: CellSummary) -> list[Text]:
    style = STYLES[summary.verdict]
    lines = [Text.assemble((f"{summary.verdict.label:>9} ", style), (summary.id, "bold"))]
    lines += [Text(f"          could not measure: {error}") for error in summary.errors[:1]]
    for finding in summary.findings:
        expected = " (expected)" if finding.kind in summary.expected else ""
        lines.append(Text(f"          {finding.kind}{expected}: {finding.summary}"))
        lines.append(Text(f"            fix: {finding.hint}", style="dim"))
    lines += [
        Text(f"          expected {kind} was not found", style="yellow")
        for kind in summary.missing_findings
    ]
    return lines


def summary_table(summaries: list[CellSummary]) -> Table:
    table = Table(title="numbers (closed-model latencies from Locust; medians over repeats)")
    for column in ("strategy", "database", "pool", "scenario"):
        table.add_column(column)
    for column in ("req/s", "p50 ms", "p99 ms", "lag max ms", "errors", "repeats"):
        table.add_column(column, justify="right")
    for summary in summaries:
        config = summary.config
        failures = [c.load.failures for c in summary.repeats if c.load is not None]
        saturated = any(c.load and c.load.generator_saturated for c in summary.repeats)
        table.add_row(
            escape(config.strategy),
            escape(f"{config.database}+{config.driver}"),
            escape(config.pool.name),
            escape(config.scenario),
            format_number(summary.median("rps")),
            format_number(summary.median("p50")),
            format_number(summary.median("p99")),
            format_number(summary.median("lag_max")),
            str(sum(failures)) if failures else "-",
            str(len(summary.repeats)) + (" [yellow]generator saturated[/yellow]" * saturated),
        )
    return table


def generator_lines(result: RunResult) -> list[Text]:
    """A saturated generator measured itself: say so, and how many workers would do."""
    saturated = [c.load for c in result.cells if c.load and c.load.generator_saturated]
    if not saturated:
        return []
    busiest = max(saturated, key=lambda load: load.generator_cpu_percent)
    processes = f"{busiest.workers} workers" if busiest.workers else "one Locust process"
    return [
        Text(
            f"load generator saturated in {len(saturated)} of {len(result.cells)} cells "
            f"({processes}, the busiest at {busiest.generator_cpu_percent:.0f} % of a core): "
            f"use --workers {max(load.workers_needed for load in saturated)} or more, "
            "each with a core the target does not use",
            style="yellow",
        )
    ]


def summary_view(result: RunResult) -> Group:
    summaries = summarise(result)
    verdicts = [line for s in summaries for line in _verdict_lines(s)]
    return Group(
        Text("verdicts", style="bold underline"),
        *verdicts,
        summary_table(summaries),
        *generator_lines(result),
    )


def print_summary(result: RunResult, console: Console) -> None:
    console.print(summary_view(result))


def render(result: RunResult) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(summary_view(result))
    return buffer.getvalue()
