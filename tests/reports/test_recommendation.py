"""The recommendation: a winner only beyond the noise, ties said as ties, failing
strategies never recommended."""

from sessionbench.reports import html, markdown, terminal
from sessionbench.reports.recommendation import Group, recommend
from sessionbench.reports.summary import summarise
from sessionbench.results import CellResult, FailureKind, Finding, RunResult


def _cell(run: RunResult, name: str, rps: float, repeat: int, failures: int = 0) -> CellResult:
    cell = run.cells[0].model_copy(deep=True)
    cell.config.id = cell.config.id.replace("async-session", name)
    cell.config.strategy, cell.repeat = name, repeat
    assert cell.load is not None
    cell.load.requests_per_s, cell.load.failures = rps, failures
    if failures:
        cell.load.failures_by_kind = [
            FailureKind(method="GET", name="/items", error="HTTP 500", occurrences=failures)
        ]
    return cell


def _group(run: RunResult, **strategies: list[float]) -> Group:
    cells = [
        _cell(run, name.replace("_", "-"), rps, i)
        for name, figures in strategies.items()
        for i, rps in enumerate(figures)
    ]
    [group] = recommend(summarise(run.model_copy(update={"cells": cells})))
    return group


def _standings(group: Group) -> dict[str, str]:
    return {p.strategy: p.standing for p in group.places}


def test_a_clear_winner_is_named_with_the_others_behind(run: RunResult) -> None:
    group = _group(run, fast=[700, 710, 705, 702, 708], slow=[500, 505, 498, 502, 501])
    assert _standings(group) == {"fast": "best", "slow": "behind"}
    assert group.sentences[0].startswith(
        "Use fast (705 req/s, median of 5): healthy, and faster than every other"
    )
    behind = group.places[1]
    assert behind.ratio is not None and behind.ratio.high < 1
    assert "slow is slower (throughput x0.71 of the best, 97% CI" in group.sentences[1]


def test_the_three_runs_that_swapped_winners_are_a_tie(run: RunResult) -> None:
    # Measured on 2 cores: which one "won" changed from run to run.
    group = _group(run, sync_threadpool=[692, 487, 463], async_session=[533, 445, 388])
    assert set(_standings(group).values()) == {"best", "tied"}
    assert "they are tied" in group.sentences[0]
    assert "Resolving the" in group.sentences[-1] and "repeats of each" in group.sentences[-1]


def test_a_gap_too_small_to_matter_is_not_sized_for(run: RunResult) -> None:
    group = _group(run, a=[800, 790, 805, 795], b=[790, 800, 785, 795])
    assert "they are tied" in group.sentences[0]
    assert (
        "a 5% difference (the smallest worth resolving; the two fastest differ by 1%)"
        in (group.sentences[-1])
    )


def test_a_single_run_cannot_rank_and_says_how_many_repeats_would(run: RunResult) -> None:
    group = _group(run, a=[700], b=[500])
    assert "best" not in group.sentences[0]
    assert group.sentences[0] == "Healthy, answering every request: a, b."
    assert group.sentences[-1].startswith("A single run per strategy cannot rank them")
    assert "repeats of each" in group.sentences[-1]


def test_failing_or_unhealthy_strategies_are_never_recommended(run: RunResult) -> None:
    cells = [_cell(run, "ok", 300 + i, i) for i in range(3)]
    cells += [_cell(run, "fast-but-failing", 900 + i, i, failures=5) for i in range(3)]
    blocking = [_cell(run, "fast-but-blocking", 950 + i, i) for i in range(3)]
    for cell in blocking:
        cell.findings.append(
            Finding(kind="event-loop-blocking", severity="error", summary="", evidence={},
                    explanation="", hint="")
        )  # fmt: skip
    [group] = recommend(summarise(run.model_copy(update={"cells": cells + blocking})))
    assert _standings(group) == {
        "ok": "best", "fast-but-failing": "avoid", "fast-but-blocking": "avoid"
    }  # fmt: skip
    assert group.places[0].strategy == "ok"
    avoid = group.sentences[-1] if "Avoid" in group.sentences[-1] else group.sentences[-2]
    assert "fast-but-failing (" in avoid and "of its requests failed" in avoid
    assert "fast-but-blocking (event-loop-blocking)" in avoid


def test_every_report_opens_with_the_recommendation(run: RunResult) -> None:
    for text, heading, next_heading in [
        (terminal.render(run), "recommendation", "verdicts"),
        (markdown.render(run), "### Recommendation", "### Verdicts"),
        (html.render(run), "<h2>Recommendation</h2>", "<h2>Verdicts</h2>"),
    ]:
        assert text.index(heading) < text.index(next_heading)
        assert "Avoid: sync-in-async (event-loop-blocking" in text
