"""A sweep's section in every report: the table of points, the knee per users level, the
recommended pool size and the arithmetic against the server.  One set of rows and
sentences, rendered for the terminal, Markdown and HTML alike."""

from collections.abc import Callable

from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text

from .summary import format_number
from .sweep_analysis import Point, SweepAnalysis

COLUMNS = (
    "users", "pool_size", "req/s", "errors", "p99 ms", "checkout wait p99 ms",
    "waiting for a connection", "server connections (peak)", "knee",
)  # fmt: skip


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


def rows(analysis: SweepAnalysis) -> list[list[str]]:
    knees = {(k.users, k.pool_size) for k in analysis.knees}

    def row(p: Point) -> list[str]:
        p99 = ("-" if p.p99_ms is None else (">= " if p.p99_lower_bound else "")) + (
            format_number(p.p99_ms) if p.p99_ms is not None else ""
        )
        return [
            str(p.users), str(p.pool_size), format_number(p.rps), _percent(p.error_rate), p99,
            format_number(p.wait_p99_ms), _percent(p.wait_share),
            "-" if p.server_connections is None else str(p.server_connections),
            "knee" if (p.users, p.pool_size) in knees else "",
        ]  # fmt: skip

    return [row(p) for p in analysis.points]


def sentences(analysis: SweepAnalysis) -> list[str]:
    record = analysis.record
    overflow = f"max_overflow {record.max_overflow}"
    lines = [
        f"{record.strategy} on {record.database}, scenario {record.scenario}, {overflow}: "
        + (
            f"recommended pool_size {analysis.recommended}: {analysis.reason}."
            if analysis.recommended is not None
            else f"no recommendation: {analysis.reason}."
        ),
        f"Knee: the smallest pool_size whose req/s is within {analysis.tolerance_source}, "
        f"with no failed request and less than {record.max_wait_share:.0%} of request time "
        "spent waiting for a pool connection.",
    ]
    lines += [
        f"{k.users} users: "
        + (f"pool_size {k.pool_size} ({k.reason})." if k.pool_size else f"{k.reason}.")
        for k in analysis.knees
    ]
    if analysis.arithmetic is not None:
        lines += analysis.arithmetic.lines()
    if record.target_workers == 1:
        lines.append(
            "Several uvicorn workers each open their own pool: multiply by the workers "
            "before sizing against the server."
        )
    return lines


def terminal(analysis: SweepAnalysis) -> RichGroup:
    table = Table(*COLUMNS, title="pool sizing sweep")
    for row in rows(analysis):
        table.add_row(*row)
    return RichGroup(table, *[Text(s) for s in sentences(analysis)])


def markdown(analysis: SweepAnalysis, escape: Callable[[object], str]) -> list[str]:
    lines = ["### Pool sizing sweep", ""]
    lines += [f"- {escape(s)}" for s in sentences(analysis)]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---:|" * (len(COLUMNS) - 1) + "---|"]
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in rows(analysis)]
    return [*lines, ""]


def html(analysis: SweepAnalysis | None) -> dict[str, object] | None:
    """Plain data for the HTML template, which escapes it."""
    if analysis is None:
        return None
    return {"columns": COLUMNS, "rows": rows(analysis), "sentences": sentences(analysis)}


def progress(point: Point) -> str:
    """The sweep's figures of a point just measured, beside the run's own line."""
    server = "-" if point.server_connections is None else str(point.server_connections)
    return (
        f"pool_size {point.pool_size} x {point.users} users: checkout wait p99 "
        f"{format_number(point.wait_p99_ms)} ms ({_percent(point.wait_share)} of request "
        f"time), server connections peak {server}"
    )
