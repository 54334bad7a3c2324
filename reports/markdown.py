"""A compact Markdown summary for a pull-request comment or a CI job summary.

Verdicts first (what is wrong, with the decisive figure and the fix), then the ranking
of strategies within each database/pool/scenario group, then micro-benchmarks.
"""

from itertools import groupby

from sessionbench.results import RunResult

from .summary import CellSummary, Verdict, format_number, ranking, summarise

ICONS = {
    Verdict.HEALTHY: "✅",
    Verdict.WARNING: "⚠️",
    Verdict.UNHEALTHY: "❌",
    Verdict.ERROR: "💥",
}


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks, no raw HTML."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def _verdict_lines(summary: CellSummary) -> list[str]:
    icon = ICONS[summary.verdict]
    lines = [f"- {icon} **{cell(summary.id)}**: {summary.verdict.label}"]
    lines += [f"  - could not measure: {cell(error)}" for error in summary.errors[:1]]
    for finding in summary.findings:
        expected = " (expected for this strategy)" if finding.kind in summary.expected else ""
        lines.append(f"  - `{cell(finding.kind)}`{expected}: {cell(finding.summary)}")
        lines.append(f"    fix: {cell(finding.hint)}")
    lines += [f"  - expected `{cell(kind)}` was not found" for kind in summary.missing_findings]
    return lines


def _group_key(summary: CellSummary) -> tuple[str, str, str]:
    return (summary.config.database, summary.config.pool.name, summary.config.scenario)


def _ranking_lines(summaries: list[CellSummary]) -> list[str]:
    lines: list[str] = []
    for (database, pool, scenario), group in groupby(
        sorted(summaries, key=_group_key), key=_group_key
    ):
        lines += [
            "",
            f"**{cell(database)}**, pool `{cell(pool)}`, scenario `{cell(scenario)}`",
            "",
            "| # | strategy | verdict | req/s | p99 ms | loop lag max ms | repeats |",
            "|---:|---|---|---:|---:|---:|---:|",
        ]
        for rank, summary in enumerate(ranking(list(group)), start=1):
            config = summary.config
            name = (
                f"{config.strategy} ({config.version_set})"
                if config.version_set
                else config.strategy
            )
            lines.append(
                f"| {rank} | {cell(name)} | {ICONS[summary.verdict]} "
                f"{summary.verdict.label} | {format_number(summary.median('rps'))} | "
                f"{format_number(summary.median('p99'))} | "
                f"{format_number(summary.median('lag_max'))} | {len(summary.repeats)} |"
            )
    return lines


def _micro_lines(result: RunResult) -> list[str]:
    if not result.micro:
        return []
    lines = [
        "",
        "### Micro-benchmarks (in-process, per call)",
        "",
        "| benchmark | database | median µs | IQR µs | rounds |",
        "|---|---|---:|---:|---:|",
    ]
    for bench in result.micro:
        lines.append(
            f"| {cell(bench.name)} | {cell(bench.database)} | {bench.median_s * 1e6:,.1f} | "
            f"{bench.iqr_s * 1e6:,.1f} | {bench.rounds} |"
        )
    return lines


def render(result: RunResult) -> str:
    summaries = summarise(result)
    worst = max((s.verdict for s in summaries), default=Verdict.HEALTHY)
    lines = [
        f"## sessionbench: {ICONS[worst]} {len(summaries)} cells",
        "",
        "Latencies are closed-model (Locust users wait for each answer); "
        "numbers are medians over repeats.",
        "",
        "### Verdicts",
        "",
    ]
    for summary in sorted(summaries, key=lambda s: -s.verdict):
        lines += _verdict_lines(summary)
    lines += [f"- skipped {cell(s.database)}: {cell(s.reason)}" for s in result.skipped]
    lines += [f"- skipped **{cell(s.id)}**: {cell(s.reason)}" for s in result.skipped_cells]
    if summaries:
        lines += ["", "### Ranking"]
        lines += _ranking_lines(summaries)
    lines += _micro_lines(result)
    if result.interrupted:
        lines += ["", "_The run was interrupted: results are partial._"]
    return "\n".join(lines) + "\n"
