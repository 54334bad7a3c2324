"""`sessionbench calibrate gate`: does the gate pass the same code and fail real regressions?

Measured on this machine, arms alternating run by run (SQLite, scenario `crud`):

- one cell (`async-session`) `runs` times as it is (A), `runs` times with 25 % more CPU
  per request (B) and `runs` times failing 2 % of its requests at equal speed (E);
- four cells (the core strategies) `matrix_runs` times as they are and as many times
  20 % slower each.

The extra CPU is sized from PILOT_RUNS runs of each strategy: at R req/s a request
costs the worker 1/R s, so `s` more is s/R.  Then, over TRIALS random draws each: A/A (two
halves of A: should pass), A/B one cell, A/B the whole matrix, A/E (all should fail),
A/A the matrix, and A/B with 3 repeats a side, where every miss should carry the power
warning.
"""

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from sessionbench.errors import ExitCode, SessionbenchError
from sessionbench.reports.gate import GateResult, compare
from sessionbench.reports.thresholds import Threshold, parse_fail_on
from sessionbench.results import CellResult, RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .databases.catalogue import DATABASES
from .matrix import Cell, expand
from .runner import RunEvents, RunPlan, execute

TRIALS = 20
CORE = ("async-session", "sync-threadpool", "async-scoped", "sync-in-async")
SINGLE_SLOWDOWN, MATRIX_SLOWDOWN, ERROR_RATE = 0.25, 0.20, 0.02
SMALL = 3  # repeats a side for the power check
PILOT_RUNS = 3


class CalibrationError(SessionbenchError):
    exit_code = ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class Outcome:
    name: str
    expected: str  # "pass" or "fail"
    hits: int  # trials that went as expected
    trials: int
    note: str = ""


Arms = dict[str, list[CellResult]]  # arm name -> runs (of possibly several cells)


def _arm(cell: CellResult) -> str:
    if cell.config.added_error_rate > 0:
        return "errors"
    return "slowed" if cell.config.added_delay_ms > 0 else "as is"


def split_arms(result: RunResult) -> Arms:
    arms: Arms = {}
    for cell in result.cells:
        if cell.load is not None:
            arms.setdefault(_arm(cell), []).append(cell)
    return arms


def _by_cell(runs: list[CellResult]) -> list[list[CellResult]]:
    by_cell: dict[str, list[CellResult]] = {}
    for run in runs:
        by_cell.setdefault(run.config.id, []).append(run)
    return list(by_cell.values())


def _draw(rng: random.Random, runs: list[CellResult], k: int) -> list[CellResult]:
    """k repeats of every cell among `runs`, drawn at random."""
    return [drawn for repeats in _by_cell(runs) for drawn in rng.sample(repeats, k)]


def _halves(
    rng: random.Random, runs: list[CellResult], k: int
) -> tuple[list[CellResult], list[CellResult]]:
    """Two disjoint draws of k repeats of every cell among `runs`."""
    base, new = [], []
    for repeats in _by_cell(runs):
        shuffled = rng.sample(repeats, len(repeats))
        base += shuffled[:k]
        new += shuffled[k : 2 * k]
    return base, new


def _gate(
    template: RunResult, base: list[CellResult], new: list[CellResult], t: list[Threshold]
) -> GateResult:
    def side(cells: list[CellResult]) -> RunResult:
        return template.model_copy(update={"cells": cells})

    return compare(side(base), side(new), t)


def trials(
    template: RunResult, a: list[CellResult], b: list[CellResult], k: int,
    thresholds: list[Threshold], judge: Callable[[GateResult], bool], seed: int,
) -> int:  # fmt: skip
    """How many of TRIALS draws of `k` repeats a side the `judge` accepts; A/A when `a`
    is `b` (two disjoint halves)."""
    rng = random.Random(seed)
    hits = 0
    for _ in range(TRIALS):
        if a is b:
            base, new = _halves(rng, a, k)
        else:
            base, new = _draw(rng, a, k), _draw(rng, b, k)
        hits += judge(_gate(template, base, new, thresholds))
    return hits


def _pilot(cells: list[Cell], output: Path, events: RunEvents) -> dict[str, float]:
    """Median throughput of each strategy over PILOT_RUNS runs: one run taken in a
    quiet moment of a shared machine would size the slowdown too small."""
    pilot = execute(RunPlan(cells, output / "pilot", repeat=PILOT_RUNS), events)
    rps: dict[str, list[float]] = {}
    for cell in pilot.cells:
        if cell.load is None or cell.load.requests_per_s <= 0:
            raise CalibrationError(
                f"the pilot run of {cell.config.id} measured nothing: {cell.error}"
            )
        rps.setdefault(cell.config.strategy, []).append(cell.load.requests_per_s)
    return {strategy: statistics.median(found) for strategy, found in rps.items()}


def _slowed(cell: Cell, rps: float, slowdown: float) -> Cell:
    return replace(cell, added_delay_ms=slowdown * 1000 / rps)


def _rps_ratio(arms: Arms, slowed: str) -> float:
    rps = {
        arm: statistics.median(c.load.requests_per_s for c in arms[arm] if c.load)
        for arm in ("as is", slowed)
    }
    return rps[slowed] / rps["as is"]


def calibrate(
    *, runs: int, matrix_runs: int, duration_s: float, users: int, fail_on: str, output: Path,
    events: RunEvents | None = None, seed: int = 0,
) -> list[Outcome]:  # fmt: skip
    thresholds = parse_fail_on(fail_on)
    events = events or RunEvents()
    cells = expand(
        [strategies().get(name) for name in CORE], [DATABASES.get("sqlite")],
        [POOLS.get("default")], [load_scenarios().get("crud")], duration_s=duration_s,
        users=users,
    )  # fmt: skip
    rps = _pilot(cells, output, events)
    one = cells[0]
    single = execute(
        RunPlan(
            [one, _slowed(one, rps[one.strategy.name], SINGLE_SLOWDOWN),
             replace(one, added_error_rate=ERROR_RATE)],
            output / "single", repeat=runs,
        ), events,
    )  # fmt: skip
    matrix = execute(
        RunPlan(
            cells + [_slowed(c, rps[c.strategy.name], MATRIX_SLOWDOWN) for c in cells],
            output / "matrix", repeat=matrix_runs,
        ), events,
    )  # fmt: skip
    s, m = split_arms(single), split_arms(matrix)
    if min(len(s.get(arm, [])) for arm in ("as is", "slowed", "errors")) < 2 * SMALL:
        raise CalibrationError(f"too few measured runs: { ({k: len(v) for k, v in s.items()}) }")
    half, draw = runs // 2, matrix_runs - 1

    def failed(gate: GateResult) -> bool:
        return gate.failed

    def passed(gate: GateResult) -> bool:
        return not gate.failed

    def caught_or_warned(gate: GateResult) -> bool:
        return gate.failed or bool(gate.power)

    def caught(gate: GateResult) -> bool:
        return gate.failed

    small_caught = trials(single, s["as is"], s["slowed"], SMALL, thresholds, caught, seed)
    return [
        Outcome(f"A/A, 1 cell, {half} vs {half} repeats", "pass",
                trials(single, s["as is"], s["as is"], half, thresholds, passed, seed), TRIALS),
        Outcome(f"A/A, 4 cells, {matrix_runs // 2} vs {matrix_runs // 2} repeats", "pass",
                trials(matrix, m["as is"], m["as is"], matrix_runs // 2, thresholds, passed,
                       seed), TRIALS),
        Outcome(f"A/B, 1 cell {SINGLE_SLOWDOWN:.0%} slower, {half} a side", "fail",
                trials(single, s["as is"], s["slowed"], half, thresholds, failed, seed), TRIALS,
                f"throughput ratio {_rps_ratio(s, 'slowed'):.3f}"),
        Outcome(f"A/B, all 4 cells {MATRIX_SLOWDOWN:.0%} slower, {draw} a side", "fail",
                trials(matrix, m["as is"], m["slowed"], draw, thresholds, failed, seed), TRIALS,
                f"throughput ratio {_rps_ratio(m, 'slowed'):.3f}"),
        Outcome(f"A/B, 1 cell, errors 0 % -> {ERROR_RATE:.0%}, {half} a side", "fail",
                trials(single, s["as is"], s["errors"], half, thresholds, failed, seed), TRIALS,
                f"throughput ratio {_rps_ratio(s, 'errors'):.3f}"),
        Outcome(f"A/B, 1 cell {SINGLE_SLOWDOWN:.0%} slower, {SMALL} a side: caught, or "
                "missed with the power warning", "fail",
                trials(single, s["as is"], s["slowed"], SMALL, thresholds, caught_or_warned,
                       seed), TRIALS, f"caught {small_caught}/{TRIALS}"),
    ]  # fmt: skip


def run(
    *, runs: int, matrix_runs: int, duration_s: float, users: int, fail_on: str, output: Path,
    console: Console, events: RunEvents | None = None,
) -> list[Outcome]:  # fmt: skip
    outcomes = calibrate(
        runs=runs, matrix_runs=matrix_runs, duration_s=duration_s, users=users,
        fail_on=fail_on, output=output, events=events,
    )  # fmt: skip
    for outcome in outcomes:
        verb = "passed" if outcome.expected == "pass" else "failed"
        note = f" ({outcome.note})" if outcome.note else ""
        console.print(
            f"{outcome.name}: gate {verb} {outcome.hits}/{outcome.trials}{note}", highlight=False
        )
    console.print(f"thresholds: {fail_on}; runs kept in {output}", highlight=False)
    return outcomes
