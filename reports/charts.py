"""Chart definitions (Vega-Lite via Altair): one definition, two renderings.

The HTML report embeds the specs and renders them interactively with the Vega bundle
that vl-convert ships (no network); Markdown reports get the same charts as static SVG
rendered by vl-convert.  A chart with no data (e.g. server connections on SQLite, or a
run without probe samples) is left out.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

from . import load_figures
from .summary import CellSummary

Spec = dict[str, Any]
# The Vega-Lite version Altair writes: the bundle and the SVG renderer must match it.
VL_VERSION = ".".join(alt.SCHEMA_VERSION.removeprefix("v").split(".")[:2])
WIDTH = 560
PERCENTILES = ("p50", "p90", "p99", "max")
CELL = alt.Color("cell:N", title="cell", legend=alt.Legend(orient="bottom", columns=1))


def latency(summaries: list[CellSummary]) -> alt.Chart | None:
    rows = [
        {
            "cell": s.id,
            "model": load_figures.model(s),
            "percentile": p,
            "ms": value,
            "value": ("lower bound" if bound else "measured"),
        }
        for s in summaries
        for p in PERCENTILES
        for value, bound in [load_figures.median_latency(s, p)]
        if value is not None
    ]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(
            alt.InlineData(values=rows),
            title="Latency percentiles per cell (ms, median; faded: a lower bound, "
            "requests unfinished when load stopped)",
        )
        .mark_bar()
        .encode(
            x=alt.X("percentile:N", sort=list(PERCENTILES), title=None),
            xOffset="cell:N",
            y=alt.Y("ms:Q", title="ms"),
            color=CELL,
            opacity=alt.Opacity(
                "value:N",
                scale=alt.Scale(domain=["measured", "lower bound"], range=[1.0, 0.4]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["cell:N", "model:N", "percentile:N", "ms:Q", "value:N"],
        )
        .properties(width=WIDTH)
    )
    return chart


def errors(summaries: list[CellSummary]) -> alt.Chart | None:
    rows = [
        {
            "cell": s.id,
            "percent": 100 * rate,
            "unfinished": load_figures.unfinished(s),
            "causes": "; ".join(f"{c.occurrences} x {c.route}: {c.error}" for c in causes[:3]),
        }
        for s in summaries
        if (rate := load_figures.error_rate(s)) is not None
        for causes in [load_figures.causes(s)]
    ]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(
            alt.InlineData(values=rows),
            title="Request errors (% failed, unfinished or dropped, median)",
        )
        .mark_bar()
        .encode(
            x=alt.X("percent:Q", title="% of requests", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("cell:N", title=None),
            color=alt.Color("cell:N", legend=None),
            tooltip=["cell:N", "percent:Q", "unfinished:N", "causes:N"],
        )
        .properties(width=WIDTH)
    )
    return chart


def throughput(summaries: list[CellSummary]) -> alt.Chart | None:
    rows = [{"cell": s.id, "rps": v} for s in summaries if (v := s.median("rps")) is not None]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(
            alt.InlineData(values=rows),
            title="Throughput (answers per second of the load window, median)",
        )
        .mark_bar()
        .encode(
            x=alt.X("rps:Q", title="req/s"),
            y=alt.Y("cell:N", title=None),
            color=alt.Color("cell:N", legend=None),
            tooltip=["cell:N", "rps:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def _timeline(field: str, title: str, unit: str) -> Callable[[list[CellSummary]], alt.Chart | None]:
    def build(summaries: list[CellSummary]) -> alt.Chart | None:
        rows = [
            {"cell": s.id, "t_s": sample.t_s, "value": value}
            for s in summaries
            for cell in s.repeats[:1]  # one repeat: overlaid repeats would zigzag
            if cell.diagnostics is not None
            for sample in cell.diagnostics.samples
            if (value := getattr(sample, field)) is not None
        ]
        if not rows:
            return None
        chart: alt.Chart = (
            alt.Chart(alt.InlineData(values=rows), title=f"{title} over time (first repeat)")
            .mark_line(point=True)
            .encode(
                x=alt.X("t_s:Q", title="seconds since load started"),
                y=alt.Y("value:Q", title=unit),
                color=CELL,
                tooltip=["cell:N", "t_s:Q", "value:Q"],
            )
            .properties(width=WIDTH)
        )
        return chart

    return build


def stalls(summaries: list[CellSummary]) -> alt.Chart | None:
    rows = [
        {"cell": s.id, "at_s": stall.at_s, "ms": stall.duration_ms, "cause": stall.cause}
        for s in summaries
        for cell in s.repeats[:1]
        if cell.diagnostics is not None
        for stall in cell.diagnostics.stalls
    ]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(alt.InlineData(values=rows), title="Event-loop stalls (first repeat)")
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("at_s:Q", title="seconds since load started"),
            y=alt.Y("ms:Q", title="stall ms"),
            color=CELL,
            shape=alt.Shape("cause:N"),
            tooltip=["cell:N", "at_s:Q", "ms:Q", "cause:N"],
        )
        .properties(width=WIDTH)
    )
    return chart


CHARTS: dict[str, Callable[[list[CellSummary]], alt.Chart | None]] = {
    "latency": latency,
    "throughput": throughput,
    "errors": errors,
    "loop-lag": _timeline("loop_lag_max_ms", "Event-loop lag (max per sample)", "ms"),
    "pool": _timeline("pool_checked_out", "Pool connections checked out", "connections"),
    "server-connections": _timeline(
        "server_connections", "Server connections (pg_stat_activity)", "connections"
    ),
    "stalls": stalls,
}


def chart_specs(summaries: list[CellSummary]) -> dict[str, Spec]:
    """Vega-Lite specs by chart name, only for charts that have data."""
    return {name: chart.to_dict() for name, build in CHARTS.items() if (chart := build(summaries))}


def write_svgs(summaries: list[CellSummary], directory: Path, prefix: str) -> list[Path]:
    """The same charts as static SVG files, for Markdown reports."""
    return write_spec_svgs(chart_specs(summaries), directory, prefix)


def write_spec_svgs(specs: dict[str, Spec], directory: Path, prefix: str) -> list[Path]:
    """Each spec as `PREFIX-NAME.svg` in `directory`."""
    paths = []
    for name, spec in specs.items():
        path = directory / f"{prefix}-{name}.svg"
        path.write_text(vl_convert.vegalite_to_svg(spec, vl_version=VL_VERSION))
        paths.append(path)
    return paths


# Bundled with its dependencies; the page calls `vegaEmbed(element, spec, options)`.
EMBED_SNIPPET = "window.vegaEmbed = vegaEmbed;"


def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, as globals: the page needs no network."""
    return str(vl_convert.javascript_bundle(EMBED_SNIPPET, vl_version=VL_VERSION))
