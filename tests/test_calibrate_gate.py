"""The calibration's draws: A/A halves are disjoint, A/B draws take every cell."""

import random
from pathlib import Path

from sessionbench.bench.calibrate_gate import TRIALS, split_arms, trials
from sessionbench.bench.resultfile import load_result
from sessionbench.reports.gate import GateResult
from sessionbench.reports.thresholds import DEFAULT_FAIL_ON, parse_fail_on
from sessionbench.results import CellResult, RunResult

GOLDEN = Path(__file__).parent / "golden" / "results-v2.json"
THRESHOLDS = parse_fail_on(DEFAULT_FAIL_ON)


def _runs(arms: dict[str, float], cells: int = 1, runs: int = 12) -> RunResult:
    run = load_result(GOLDEN)
    rng = random.Random(7)
    found: list[CellResult] = []
    for arm, factor in arms.items():
        for c in range(cells):
            for i in range(runs):
                cell = run.cells[0].model_copy(deep=True)
                cell.config.id += f"-{c}"
                cell.repeat = i
                cell.config.added_delay_ms = 1.0 if arm == "slowed" else 0.0
                assert cell.load is not None
                cell.load.requests_per_s = 400 * factor * rng.lognormvariate(0, 0.05)
                cell.load.p99_ms = 50 / factor * rng.lognormvariate(0, 0.05)
                found.append(cell)
    return run.model_copy(update={"cells": found})


def _failed(gate: GateResult) -> bool:
    return gate.failed


def test_a_a_passes_and_a_clear_slowdown_fails_every_draw() -> None:
    result = _runs({"as is": 1.0, "slowed": 0.75})
    arms = split_arms(result)
    assert {k: len(v) for k, v in arms.items()} == {"as is": 12, "slowed": 12}
    passes = trials(result, arms["as is"], arms["as is"], 6, THRESHOLDS,
                    lambda g: not g.failed, seed=0)  # fmt: skip
    assert passes == TRIALS
    assert trials(result, arms["as is"], arms["slowed"], 6, THRESHOLDS, _failed, 0) == TRIALS


def test_a_matrix_wide_slowdown_is_caught_through_the_pooled_check() -> None:
    result = _runs({"as is": 1.0, "slowed": 0.8}, cells=4, runs=6)
    arms = split_arms(result)
    caught: list[GateResult] = []

    def judge(gate: GateResult) -> bool:
        caught.append(gate)
        return gate.failed

    assert trials(result, arms["as is"], arms["slowed"], 5, THRESHOLDS, judge, 0) == TRIALS
    assert all(any(c.cell == "all cells" for c in g.regressions) for g in caught)
