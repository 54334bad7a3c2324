"""A sweep's chart: req/s, p99 and checkout wait against pool_size, one line per users
level, each level's knee ringed.  The same Vega-Lite builder as the other charts
(`charts.py`): embedded in report.html, an SVG beside the Markdown report."""

from pathlib import Path

import altair as alt

from .charts import WIDTH, Spec, write_spec_svgs
from .sweep_analysis import SweepAnalysis

USERS = alt.Color(
    "users:O",
    title="users",
    scale=alt.Scale(scheme="category10"),
    legend=alt.Legend(orient="right"),
)


def _rows(analysis: SweepAnalysis) -> list[dict[str, object]]:
    knees = {(k.users, k.pool_size) for k in analysis.knees}
    return [
        {
            "pool_size": p.pool_size,
            "users": p.users,
            "rps": p.rps,
            "p99_ms": p.p99_ms,
            "wait_percent": None if p.wait_share is None else round(100 * p.wait_share, 2),
            "errors_percent": None if p.error_rate is None else round(100 * p.error_rate, 2),
            "requests": "all answered" if p.clean else "some failed",
            "knee": (p.users, p.pool_size) in knees,
        }
        for p in analysis.points
        if p.rps is not None
    ]


def _panel(
    rows: list[dict[str, object]], sizes: list[int], field: str, title: str
) -> alt.LayerChart:
    # A log scale spaces doubling pool sizes evenly; ticks only at the sizes measured.
    pool_size = alt.X(
        "pool_size:Q", title="pool_size", scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=sizes),
    )  # fmt: skip
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=pool_size,
        y=alt.Y(f"{field}:Q", title=title),
        color=USERS,
        tooltip=["users:O", "pool_size:Q", "rps:Q", "p99_ms:Q", "wait_percent:Q",
                 "errors_percent:Q"],
    )  # fmt: skip
    points = base.mark_point(filled=True, size=60).encode(
        shape=alt.Shape(
            "requests:N",
            scale=alt.Scale(domain=["all answered", "some failed"], range=["circle", "cross"]),
            legend=alt.Legend(orient="right", title=None),
        )
    )
    knee = base.transform_filter("datum.knee").mark_point(size=400, strokeWidth=2)
    return alt.LayerChart(layer=[base.mark_line(), points, knee]).properties(
        width=WIDTH, height=160
    )


def chart(analysis: SweepAnalysis) -> alt.VConcatChart | None:
    rows = _rows(analysis)
    if not rows:
        return None
    record = analysis.record
    title = (
        f"Pool sizing sweep: {record.strategy} on {record.database}, scenario "
        f"{record.scenario} (ringed: each users level's knee; a cross: some requests failed)"
    )
    return alt.vconcat(
        _panel(rows, record.pool_sizes, "rps", "req/s"),
        _panel(rows, record.pool_sizes, "p99_ms", "p99 ms"),
        _panel(
            rows, record.pool_sizes, "wait_percent", "% of request time waiting for a connection"
        ),
        title=title,
    )


def specs(analysis: SweepAnalysis | None) -> dict[str, Spec]:
    built = chart(analysis) if analysis else None
    return {"sweep": built.to_dict()} if built else {}


def write_svg(analysis: SweepAnalysis | None, directory: Path, prefix: str) -> list[Path]:
    """`PREFIX-sweep.svg` beside the Markdown report; nothing for a run that is no sweep."""
    return write_spec_svgs(specs(analysis), directory, prefix)
