"""What each writer shows, and that strings from a run cannot inject markup."""

import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from sessionbench.bench.locust_results import ABORTED_ERROR, unfinished_error
from sessionbench.reports import html, junit, markdown, terminal
from sessionbench.reports.charts import chart_specs
from sessionbench.reports.summary import Verdict, summarise
from sessionbench.results import FailureKind, RunResult, SkippedCell

UNFINISHED_ERROR = unfinished_error(2.0)


def _with_repeat(run: RunResult, rps: float) -> RunResult:
    extra = run.cells[0].model_copy(deep=True)
    extra.repeat = 1
    assert extra.load is not None
    extra.load.requests_per_s = rps
    run.cells.append(extra)
    return run


def test_repeats_fold_into_one_summary_with_median_numbers(run: RunResult) -> None:
    first = run.cells[0].load
    assert first is not None
    _with_repeat(run, first.requests_per_s + 100)
    _with_repeat(run, first.requests_per_s + 1000)
    summaries = summarise(run)
    assert [len(s.repeats) for s in summaries] == [3, 1]
    assert summaries[0].median("rps") == first.requests_per_s + 100


def test_verdicts_come_from_the_worst_finding(run: RunResult) -> None:
    verdicts = {s.config.strategy: s.verdict for s in summarise(run)}
    assert verdicts == {"async-session": Verdict.HEALTHY, "sync-in-async": Verdict.UNHEALTHY}


def test_markdown_puts_verdicts_before_ranking_and_ranks_healthy_first(run: RunResult) -> None:
    text = markdown.render(run)
    assert text.index("### Recommendation") < text.index("### Verdicts")
    assert text.index("### Verdicts") < text.index("### Ranking")
    ranking = text[text.index("### Ranking") :]
    # The unhealthy strategy is listed after the healthy one and gets no rank.
    assert ranking.index("| 1 | async-session") < ranking.index("| - | sync-in-async")
    assert "Use plain `def` routes or AsyncSession." in text


def test_markdown_escapes_html_and_table_breakers(run: RunResult) -> None:
    run.cells[1].findings[0].summary = "<img src=x> | pipe\nnewline"
    text = markdown.render(run)
    assert "<img" not in text
    assert "&lt;img src=x&gt; \\| pipe newline" in text


def _cases(xml: str) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(xml)
    return {(c.get("classname", ""), c.get("name", "")): c for c in root.iter("testcase")}


def test_junit_has_four_checks_per_cell_and_passes_expected_findings(run: RunResult) -> None:
    cases = _cases(junit.render(run))
    assert len(cases) == 4 * len(run.cells)
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    # The golden blocking cell lost one request; everything else passes.
    assert failed == {(run.cells[1].config.id, "requests answered")}


def test_junit_fails_requests_answered_with_the_causes(run: RunResult) -> None:
    _with_unfinished(run)
    answered = _cases(junit.render(run))[(run.cells[1].config.id, "requests answered")]
    failure = answered.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("2.3 % of requests failed: 3 x GET /slow: ")
    assert UNFINISHED_ERROR in (failure.text or "")


def test_junit_fails_unexpected_and_missing_findings(run: RunResult) -> None:
    blocking = run.cells[1]
    blocking.expected_findings = ["connection-leak"]
    cases = _cases(junit.render(run))
    cell = blocking.config.id
    unexpected = cases[(cell, "no unexpected findings")].find("failure")
    assert unexpected is not None
    assert "event-loop-blocking" in unexpected.get("message", "")
    missing = cases[(cell, "expected findings present")].find("failure")
    assert missing is not None and "connection-leak" in missing.get("message", "")


def test_junit_marks_a_cell_that_could_not_run(run: RunResult) -> None:
    run.cells[0].status, run.cells[0].error, run.cells[0].load = "error", "port <busy>", None
    cases = _cases(junit.render(run))
    ran = cases[(run.cells[0].config.id, "ran")].find("failure")
    assert ran is not None and ran.get("message") == "port <busy>"
    assert cases[(run.cells[0].config.id, "no unexpected findings")].find("skipped") is not None


def _external_references(page: str) -> list[str]:
    """src/href attributes of real elements (script bodies are not parsed as markup)."""
    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(
                f"{tag} {name}={value}" for name, value in attrs if name in ("src", "href")
            )

    Collector().feed(page)
    return found


def test_html_is_self_contained_and_escapes_run_strings(run: RunResult) -> None:
    page = html.render(run)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;evidence&#39;)&lt;/script&gt;" in page
    assert _external_references(page) == []  # nothing is loaded from elsewhere
    assert "window.vegaEmbed" in page
    assert "Captured blocking stacks" in page


def test_chart_specs_cannot_close_their_script_element() -> None:
    assert "<" not in html.script_json({"label": "</script><script>alert(1)"})


def test_terminal_shows_verdicts_before_numbers(run: RunResult) -> None:
    text = terminal.render(run)
    assert text.index("event-loop-blocking (expected)") < text.index("numbers")
    assert "fix: Use plain `def` routes or AsyncSession." in text


def _with_unfinished(run: RunResult) -> RunResult:
    """The blocking cell with 3 requests unfinished at stop: its p99 and max are lower bounds."""
    load = run.cells[1].load
    assert load is not None
    load.requests, load.failures, load.unfinished = 173, 4, 3
    load.unfinished_elapsed_ms = [2100.0, 2100.0, 2100.0]
    load.p99_ms, load.max_ms, load.censored = 2100.0, 2100.0, ["p99", "max"]
    load.failures_by_kind = [
        FailureKind(method="GET", name="/slow", error=UNFINISHED_ERROR, occurrences=3),
        FailureKind(method="GET", name="/items", error="HTTP 500: <b>boom</b>", occurrences=1),
    ]
    return run


def _with_open_model(run: RunResult) -> RunResult:
    cell, load = run.cells[0], run.cells[0].load
    assert load is not None
    cell.config.rate, cell.config.id = [50.0], cell.config.id + "@rate=50"
    load.latency_model, load.intended_rate, load.achieved_rate = "open", 50.0, 31.0
    load.arrivals, load.late_arrivals, load.dropped_arrivals = 400, 77, 150
    load.late_by_p50_ms, load.late_by_max_ms = 420.0, 990.0
    return run


@pytest.mark.parametrize(
    ("writer", "lower_bound", "cause"),
    [
        (terminal.render, ">= 2,100", "<b>boom</b>"),  # plain text: nothing to escape
        (markdown.render, "&gt;= 2,100", "&lt;b&gt;boom"),
        (html.render, "&gt;= 2,100", "&lt;b&gt;boom"),
    ],
)
def test_tables_show_errors_unfinished_causes_and_lower_bounds(
    run: RunResult, writer: Callable[[RunResult], str], lower_bound: str, cause: str
) -> None:
    text = writer(_with_unfinished(run))
    assert lower_bound in text  # the censored p99
    assert "2.3 %" in text  # 4 of 173
    assert "unfinished" in text and UNFINISHED_ERROR in text
    assert cause in text


def test_markdown_ranks_within_one_latency_model(run: RunResult) -> None:
    text = markdown.render(_with_open_model(run))
    assert "latency model closed" in text and "latency model open 50/s" in text
    assert "| async-session/sqlite+aiosqlite/default/mixed@rate=50 | 50 | 31 | 77 " in text
    assert "| 150 |" in text


@pytest.mark.parametrize("writer", [terminal.render, html.render])
def test_open_model_figures_are_shown(run: RunResult, writer: Callable[[RunResult], str]) -> None:
    text = writer(_with_open_model(run))
    assert "open 50/s" in text and "closed" in text
    assert "77 (p50 420 ms, max 990 ms)" in text
    assert "intended/s" in text and "achieved/s" in text


def test_charts_mark_lower_bounds_and_show_errors(run: RunResult) -> None:
    specs = chart_specs(summarise(_with_unfinished(run)))

    def rows(chart: str) -> list[dict[str, Any]]:
        spec = specs[chart]
        rows: list[dict[str, Any]] = spec["datasets"][spec["data"]["name"]]
        return rows

    bounds = [(r["cell"], r["percentile"]) for r in rows("latency") if r["value"] == "lower bound"]
    blocking = run.cells[1].config.id
    assert bounds == [(blocking, "p99"), (blocking, "max")]
    percents = {row["cell"]: row["percent"] for row in rows("errors")}
    assert percents[blocking] == pytest.approx(100 * 4 / 173)


def test_cells_under_a_version_set_and_skipped_cells_are_named(run: RunResult) -> None:
    under_set = run.cells[0].model_copy(deep=True)
    under_set.config.version_set = "fastapi==0.115.*"
    under_set.config.id += "/fastapi==0.115.*"
    run.cells.append(under_set)
    run.skipped_cells.append(
        SkippedCell(id="async-session/x/fastapi==0.119.*", version_set="fastapi==0.119.*",
                    reason="FastAPI 0.119.1 has no Depends(scope=...)")
    )  # fmt: skip
    text = markdown.render(run)
    assert "| async-session (fastapi==0.115.*) |" in text
    assert "skipped **async-session/x/fastapi==0.119.*" in text
    shown = terminal.render(run)
    assert "versions" in shown and "fastapi==0.115.*" in shown and "installed" in shown
    assert "has no Depends(scope=...)" in shown


@pytest.mark.parametrize("writer", [terminal.render, markdown.render, html.render])
def test_aborted_requests_are_listed_apart_from_the_failures(
    run: RunResult, writer: Callable[[RunResult], str]
) -> None:
    load = run.cells[0].load
    assert load is not None
    load.aborted = [FailureKind(method="GET", name="/export", error=ABORTED_ERROR, occurrences=87)]
    text = writer(run)
    assert "Requests aborted by the clients (fault)".lower() in text.lower()
    assert "87" in text and "GET /export" in text and ABORTED_ERROR in text
    assert "Request failures by cause".lower() not in text.lower()
