"""Sizing `run --compare`: what ranking needs, within what the budget affords."""

from pathlib import Path

from sessionbench.bench.resultfile import load_result
from sessionbench.bench.strategy_comparison import PILOT_ROUNDS, size
from sessionbench.results import RunResult

GOLDEN = Path(__file__).parent / "golden" / "results-v2.json"


def _pilot(a: list[float], b: list[float]) -> RunResult:
    run = load_result(GOLDEN)
    cells = []
    for name, figures in (("a", a), ("b", b)):
        for i, rps in enumerate(figures):
            cell = run.cells[0].model_copy(deep=True)
            cell.config.id = cell.config.id.replace("async-session", name)
            cell.config.strategy, cell.repeat = name, i
            assert cell.load is not None
            cell.load.requests_per_s = rps
            cells.append(cell)
    return run.model_copy(update={"cells": cells})


def test_a_wide_gap_needs_few_rounds() -> None:
    sizing = size(_pilot([700, 710], [400, 405]), budget_s=300, spent_s=40)
    assert sizing.needed is not None and sizing.needed.repeats is not None
    assert sizing.rounds == max(PILOT_ROUNDS, sizing.needed.repeats) <= sizing.affordable
    assert "resolving the 75% gap between the two fastest needs 4 repeats each" in (
        sizing.describe()
    )


def test_a_close_gap_gets_what_the_budget_affords_and_says_so() -> None:
    # 20 s per round; 300 s leave 13 rounds after the 40 s pilot: 2 + 13 = 15.
    sizing = size(_pilot([700, 560], [660, 540]), budget_s=300, spent_s=40)
    assert sizing.affordable == 15 and sizing.rounds == 15
    assert sizing.needed is not None and (sizing.needed.repeats or 101) > 15
    assert "the budget affords 15, so close ones may stay tied" in sizing.describe()


def test_strategies_to_avoid_are_not_measured_again() -> None:
    pilot = _pilot([700, 710], [400, 405])
    for cell in pilot.cells[2:]:
        assert cell.load is not None
        cell.load.failures = 3
    sizing = size(pilot, budget_s=300, spent_s=40)
    assert sizing.kept == {pilot.cells[0].config.id}
    assert sizing.round_s == 10  # half the cells: half the 20 s round
    assert sizing.needed is None and sizing.rounds == PILOT_ROUNDS  # nothing left to rank


def test_a_budget_spent_by_the_pilot_runs_nothing_more() -> None:
    sizing = size(_pilot([700, 560], [600, 500]), budget_s=30, spent_s=40)
    assert sizing.rounds == PILOT_ROUNDS
