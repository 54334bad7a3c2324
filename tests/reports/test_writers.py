"""What each writer shows, and that strings from a run cannot inject markup."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from sessionbench.reports import html, junit, markdown, terminal
from sessionbench.reports.summary import Verdict, summarise
from sessionbench.results import RunResult, SkippedCell


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
    assert text.index("### Verdicts") < text.index("### Ranking")
    ranking = text[text.index("### Ranking") :]
    assert ranking.index("| 1 | async-session") < ranking.index("| 2 | sync-in-async")
    assert "Use plain `def` routes or AsyncSession." in text


def test_markdown_escapes_html_and_table_breakers(run: RunResult) -> None:
    run.cells[1].findings[0].summary = "<img src=x> | pipe\nnewline"
    text = markdown.render(run)
    assert "<img" not in text
    assert "&lt;img src=x&gt; \\| pipe newline" in text


def _cases(xml: str) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(xml)
    return {(c.get("classname", ""), c.get("name", "")): c for c in root.iter("testcase")}


def test_junit_has_three_checks_per_cell_and_passes_expected_findings(run: RunResult) -> None:
    cases = _cases(junit.render(run))
    assert len(cases) == 3 * len(run.cells)
    assert all(case.find("failure") is None for case in cases.values())


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
