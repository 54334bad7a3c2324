"""A compact Markdown summary for a pull-request comment or a CI job summary.

Verdicts first (what is wrong, with the decisive figure and the fix), then the ranking
of strategies within each database/pool/scenario group, then micro-benchmarks.
"""

from itertools import groupby

from sessionbench.results import RunResult

from . import load_figures, recommendation_section, sweep_section
from .capacity_lines import capacity_warnings
from .gate import environment_differences
from .recommendation import recommend, tiers
from .recovery import HEADERS as RECOVERY_HEADERS
from .recovery import recovery_rows
from .summary import CellSummary, Verdict, format_number, ranking, summarise
from .sweep_analysis import analyse

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


def _group_key(summary: CellSummary) -> tuple[str, str, str, str]:
    """Cells compared with each other: same database, pool, scenario and latency model."""
    config = summary.config
    scenario = load_figures.scenario_label(config)
    return (config.database, config.pool.name, scenario, load_figures.model(summary))


def _ranking_lines(summaries: list[CellSummary], tier: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for (database, pool, scenario, model), group in groupby(
        sorted(summaries, key=_group_key), key=_group_key
    ):
        lines += [
            "",
            f"**{cell(database)}**, pool `{cell(pool)}`, scenario `{cell(scenario)}`, "
            f"latency model {model}",
            "",
            "| # | strategy | verdict | model | req/s | errors | unfinished | p99 ms "
            "| loop lag max ms | repeats |",
            "|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for summary in ranking(list(group)):
            place = tier.get(summary.id, "-")
            config = summary.config
            name = (
                f"{config.strategy} ({config.version_set})"
                if config.version_set
                else config.strategy
            )
            lines.append(
                f"| {place} | {cell(name)} | {ICONS[summary.verdict]} "
                f"{summary.verdict.label} | {load_figures.model(summary)} | "
                f"{format_number(summary.median('rps'))} | "
                f"{load_figures.error_percent(summary)} | {load_figures.unfinished(summary)} | "
                f"{cell(load_figures.latency(summary, 'p99'))} | "
                f"{format_number(summary.median('lag_max'))} | {len(summary.repeats)} |"
            )
    return lines


def _open_lines(summaries: list[CellSummary]) -> list[str]:
    rows = [(s, figures) for s in summaries if (figures := load_figures.open_figures(s))]
    if not rows:
        return []
    lines = [
        "",
        "### Open model: arrivals per second",
        "",
        "| cell | intended/s | achieved/s | late | dropped |",
        "|---|---:|---:|---:|---:|",
    ]
    for summary, figures in rows:
        lines.append(
            f"| {cell(summary.id)} | {figures.intended_rate} | {figures.achieved_rate} | "
            f"{figures.late} | {figures.dropped} |"
        )
    return lines


def _recovery_lines(summaries: list[CellSummary]) -> list[str]:
    rows = recovery_rows(summaries)
    if not rows:
        return []
    lines = [
        "",
        "### Recovery from faults",
        "",
        "| " + " | ".join(RECOVERY_HEADERS) + " |",
        "|---|---|---|---|" + "---:|" * (len(RECOVERY_HEADERS) - 4),
    ]
    return lines + ["| " + " | ".join(cell(v) for v in row.cells()) + " |" for row in rows]


def _cause_lines(summaries: list[CellSummary], *, aborted: bool = False) -> list[str]:
    lines = [
        f"- {cell(summary.id)}: {cause.occurrences} x {cell(cause.route)}: {cell(cause.error)}"
        for summary in summaries
        for cause in load_figures.causes(summary, aborted=aborted)
    ]
    title = (
        "### Requests aborted by the clients (fault)"
        if aborted
        else "### Request failures by cause"
    )
    return ["", title, "", *lines] if lines else []


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
        "Numbers are medians over repeats. Latency model per row: closed (Locust users wait "
        "for each answer) or open at its arrival rate (latency from the intended start, "
        "coordinated omission corrected); `>= x` is a lower bound (requests unfinished "
        "when load stopped). Errors: failed, unfinished or dropped, of all requests.",
        "",
    ]
    groups = recommend(summaries)
    lines += recommendation_section.markdown(groups, cell)
    if sweep := analyse(result):
        lines += sweep_section.markdown(sweep, cell)
    lines += ["### Verdicts", ""]
    for summary in sorted(summaries, key=lambda s: -s.verdict):
        lines += _verdict_lines(summary)
    lines += [f"- skipped {cell(s.database)}: {cell(s.reason)}" for s in result.skipped]
    lines += [f"- skipped **{cell(s.id)}**: {cell(s.reason)}" for s in result.skipped_cells]
    if summaries:
        lines += ["", "### Ranking"]
        lines += _ranking_lines(summaries, tiers(groups))
        lines += _open_lines(summaries)
        lines += _recovery_lines(summaries)
        lines += _cause_lines(summaries)
        lines += _cause_lines(summaries, aborted=True)
    if warnings := capacity_warnings(result):
        lines += ["", "### Connection capacity", "", *(f"- {cell(line)}" for line in warnings)]
    lines += _micro_lines(result)
    if result.interrupted:
        lines += ["", "_The run was interrupted: results are partial._"]
    lines += _shard_lines(result)
    return "\n".join(lines) + "\n"


def _shard_lines(result: RunResult) -> list[str]:
    """A merged run: shards may have run on different machines, so rankings across them
    compare machines too."""
    if not result.shards:
        return []
    count = result.shards[0].shard.count
    lines = [
        "",
        f"_Merged from {len(result.shards)} of {count} shards; each shard's environment "
        "is kept in the results file._",
    ]
    first = result.shards[0].environment
    if any(environment_differences(first, s.environment) for s in result.shards):
        lines.append("_The shards ran in different environments: compare within a shard._")
    if len(result.shards) < count:
        lines.append("_Shards are missing: results are partial._")
    return lines
