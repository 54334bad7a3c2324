"""One self-contained HTML file: verdict cards, numbers, interactive charts, stacks.

Everything the page needs is inline (styles, chart specs, the Vega bundle), so it
opens offline.  Jinja autoescaping escapes every string that came from a run; the two
blobs that are inserted raw are made safe inside `<script>` first.
"""

import json
from typing import Any

import jinja2
from markupsafe import Markup

from sessionbench.results import RunResult, Stall

from . import load_figures, sweep_chart, sweep_section
from .charts import chart_specs, javascript_bundle
from .recommendation import recommend
from .recommendation_section import html_rows
from .recovery import HEADERS as RECOVERY_HEADERS
from .recovery import recovery_rows
from .summary import CellSummary, format_number, summarise
from .sweep_analysis import analyse

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("sessionbench.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def script_json(value: Any) -> Markup:
    """JSON that cannot close its `<script>` element: every `<` becomes an escape."""
    return Markup(json.dumps(value).replace("<", "\\u003c"))


def _script(source: str) -> Markup:
    # The bundle holds no `</script`; escaping the slash keeps that true for any version.
    return Markup(source.replace("</script", "<\\/script"))


def _stalls(summaries: list[CellSummary]) -> list[tuple[str, Stall, list[str]]]:
    """The longest stalls first, from each cell's first repeat, with their stacks."""
    found = [
        (s.id, stall, cell.diagnostics.stack_of(stall))
        for s in summaries
        for cell in s.repeats[:1]
        if cell.diagnostics is not None
        for stall in cell.diagnostics.stalls
    ]
    return sorted(found, key=lambda row: -row[1].duration_ms)[:20]


def render(result: RunResult) -> str:
    summaries = summarise(result)
    sweep = analyse(result)
    specs = sweep_chart.specs(sweep) | chart_specs(summaries)
    return _environment.get_template("report.html.j2").render(
        result=result,
        summaries=summaries,
        recommendation=html_rows(recommend(summaries)),
        sweep=sweep_section.html(sweep),
        specs=specs,
        specs_json=script_json(specs),
        stalls=_stalls(summaries),
        bundle=_script(javascript_bundle()),
        number=format_number,
        load=load_figures,
        open_rows=[(s, figures) for s in summaries if (figures := load_figures.open_figures(s))],
        cause_rows=[(s, cause) for s in summaries for cause in load_figures.causes(s)],
        aborted_rows=[
            (s, cause) for s in summaries for cause in load_figures.causes(s, aborted=True)
        ],
        recovery_headers=RECOVERY_HEADERS,
        recovery_rows=recovery_rows(summaries),
    )
