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
    # The versions column only when some cell ran under a version set (`run --with`).
    with_versions = any(s.config.version_set for s in summaries)
    for column in ("strategy", "database", "pool", "scenario", "versions")[: 4 + with_versions]:
        table.add_column(column)
    for column in ("req/s", "p50 ms", "p99 ms", "lag max ms", "errors", "repeats"):
        table.add_column(column, justify="right")
    for summary in summaries:
        config = summary.config
        failures = [c.load.failures for c in summary.repeats if c.load is not None]
        saturated = any(c.load and c.load.generator_saturated for c in summary.repeats)
        names = [config.strategy, f"{config.database}+{config.driver}", config.pool.name]
        names += [config.scenario, config.version_set or "installed"][: 1 + with_versions]
        table.add_row(
            *(escape(name) for name in names),
            format_number(summary.median("rps")),
            format_number(summary.median("p50")),
            format_number(summary.median("p99")),
            format_number(summary.median("lag_max")),
            str(sum(failures)) if failures else "-",
            str(len(summary.repeats)) + (" [yellow]generator saturated[/yellow]" * saturated),
        )
    return table


def summary_view(result: RunResult) -> Group:
    summaries = summarise(result)
    verdicts = [line for s in summaries for line in _verdict_lines(s)]
    verdicts += [
        Text.assemble(("  skipped ", "yellow"), (skipped.id, "bold"), f": {skipped.reason}")
        for skipped in result.skipped_cells
    ]
    return Group(Text("verdicts", style="bold underline"), *verdicts, summary_table(summaries))


def print_summary(result: RunResult, console: Console) -> None:
    console.print(summary_view(result))


def render(result: RunResult) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(summary_view(result))
    return buffer.getvalue()
