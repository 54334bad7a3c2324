"""The terminal summary of a run (Rich): verdicts and findings first, then the numbers."""

import io

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sessionbench.results import RunResult

from . import load_figures, recommendation_section, sweep_section
from .capacity_lines import capacity_warnings
from .recommendation import recommend
from .recovery import HEADERS as RECOVERY_HEADERS
from .recovery import recovery_rows
from .summary import CellSummary, Verdict, format_number, summarise
from .sweep_analysis import analyse

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
    table = Table(
        title="numbers (medians over repeats; latency model closed: Locust users wait for "
        "each answer, open: from the intended start; >= a lower bound; lag: loop lag max)"
    )
    # The versions column only when some cell ran under a version set (`run --with`).
    with_versions = any(s.config.version_set for s in summaries)
    headers = ("strategy", "database", "pool", "scenario", "versions")[: 4 + with_versions]
    for column in (*headers, "model"):
        table.add_column(column)
    for column in ("req/s", "errors", "unfinished", "p50 ms", "p99 ms", "lag ms", "repeats"):
        table.add_column(column, justify="right")
    for summary in summaries:
        config = summary.config
        saturated = any(c.load and c.load.generator_saturated for c in summary.repeats)
        names = [config.strategy, f"{config.database}+{config.driver}", config.pool.name]
        scenario = load_figures.scenario_label(config)
        names += [scenario, config.version_set or "installed"][: 1 + with_versions]
        table.add_row(
            *(escape(name) for name in names),
            load_figures.model(summary),
            format_number(summary.median("rps")),
            load_figures.error_percent(summary),
            load_figures.unfinished(summary),
            load_figures.latency(summary, "p50"),
            load_figures.latency(summary, "p99"),
            format_number(summary.median("lag_max")),
            str(len(summary.repeats)) + (" [yellow]generator saturated[/yellow]" * saturated),
        )
    return table


def open_table(summaries: list[CellSummary]) -> Table | None:
    rows = [(s, figures) for s in summaries if (figures := load_figures.open_figures(s))]
    if not rows:
        return None
    table = Table(title="open model: arrivals per second, intended and achieved")
    table.add_column("cell")
    for column in ("intended/s", "achieved/s", "late", "dropped"):
        table.add_column(column, justify="right")
    for summary, figures in rows:
        table.add_row(
            escape(summary.id),
            figures.intended_rate,
            figures.achieved_rate,
            figures.late,
            figures.dropped,
        )
    return table


def recovery_table(summaries: list[CellSummary]) -> Table | None:
    rows = recovery_rows(summaries)
    if not rows:
        return None
    table = Table(title="recovery from faults (medians over repeats)")
    for index, column in enumerate(RECOVERY_HEADERS):
        table.add_column(column, justify="right" if index >= 4 else "left")
    for row in rows:
        table.add_row(*(escape(value) for value in row.cells()))
    return table


def _cause_lines(summaries: list[CellSummary], *, aborted: bool = False) -> list[Text]:
    lines = []
    for summary in summaries:
        for cause in load_figures.causes(summary, aborted=aborted)[:3]:
            lines.append(
                Text(f"  {summary.id}: {cause.occurrences} x {cause.route}: {cause.error}")
            )
    title = "requests aborted by the clients (fault)" if aborted else "request failures by cause"
    return [Text(title, style="bold underline"), *lines] if lines else []


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
    verdicts += [
        Text.assemble(("  skipped ", "yellow"), (skipped.id, "bold"), f": {skipped.reason}")
        for skipped in result.skipped_cells
    ]
    tables = [summary_table(summaries), open_table(summaries), recovery_table(summaries)]
    return Group(
        recommendation_section.terminal(recommend(summaries)),
        Text("verdicts", style="bold underline"),
        *verdicts,
        *[table for table in tables if table is not None],
        *_cause_lines(summaries),
        *_cause_lines(summaries, aborted=True),
        *generator_lines(result),
        *[sweep_section.terminal(sweep) for sweep in [analyse(result)] if sweep],
        *[Text(line, style="yellow") for line in capacity_warnings(result)],
    )


def print_summary(result: RunResult, console: Console) -> None:
    console.print(summary_view(result))


def render(result: RunResult) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None).print(summary_view(result))
    return buffer.getvalue()
