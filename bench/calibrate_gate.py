"""`sessionbench calibrate gate`: does the gate pass the same code and fail a 25 % slowdown?

One cell is measured `runs` times as it is (A) and `runs` times with extra CPU per
request (B), alternating A and B on the same machine.  The extra CPU is sized from a
pilot run so that each request costs `slowdown` more of the worker's time.  Then, 20
times each: A/A compares two random halves of the A runs (the gate should pass), A/B
compares a random half of the A runs with a random half of the B runs (it should fail).
"""

import random
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from sessionbench.errors import ExitCode, SessionbenchError
from sessionbench.reports.gate import compare
from sessionbench.reports.thresholds import Threshold, parse_fail_on
from sessionbench.results import RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .databases.catalogue import DATABASES
from .matrix import Cell, expand
from .runner import RunPlan, execute

TRIALS = 20


class CalibrationError(SessionbenchError):
    exit_code = ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class Calibration:
    aa_passed: int
    ab_failed: int
    trials: int
    added_delay_ms: float
    measured_rps_ratio: float  # median B / median A over all runs


def _subset(result: RunResult, cells: list[int]) -> RunResult:
    return result.model_copy(update={"cells": [result.cells[i] for i in cells]})


def gate_trials(
    result: RunResult, a: list[int], b: list[int], thresholds: list[Threshold], seed: int = 0
) -> tuple[int, int]:
    """(A/A passes, A/B failures) over TRIALS random splits of the runs `a` and `b`."""
    rng = random.Random(seed)
    half = min(len(a), len(b)) // 2
    aa_passed = ab_failed = 0
    for _ in range(TRIALS):
        shuffled = rng.sample(a, len(a))
        gate = compare(
            _subset(result, shuffled[:half]), _subset(result, shuffled[half:]), thresholds
        )
        aa_passed += not gate.failed
        gate = compare(
            _subset(result, rng.sample(a, half)), _subset(result, rng.sample(b, half)), thresholds
        )
        ab_failed += gate.failed
    return aa_passed, ab_failed


def _rps(result: RunResult, cells: list[int]) -> list[float]:
    return [load.requests_per_s for i in cells if (load := result.cells[i].load) is not None]


def _pilot_rps(cell: Cell, output: Path) -> float:
    pilot = execute(RunPlan([cell], output / "pilot"))
    load = pilot.cells[0].load
    if load is None or load.requests_per_s <= 0:
        raise CalibrationError(f"the pilot run measured nothing: {pilot.cells[0].error}")
    return load.requests_per_s


def calibrate(
    *, runs: int, duration_s: float, users: int, slowdown: float, fail_on: str, output: Path,
    seed: int = 0,
) -> Calibration:  # fmt: skip
    thresholds = parse_fail_on(fail_on)
    [cell] = expand(
        [strategies().get("async-session")], [DATABASES.get("sqlite")], [POOLS.get("default")],
        [load_scenarios().get("crud")], duration_s=duration_s, users=users,
    )  # fmt: skip
    # At R req/s one request costs the worker 1/R s; `slowdown` more is slowdown/R.
    delay_ms = slowdown * 1000 / _pilot_rps(cell, output)
    slowed = replace(cell, added_delay_ms=delay_ms)
    result = execute(RunPlan([cell, slowed], output / "runs", repeat=runs))
    a = [i for i, c in enumerate(result.cells) if c.config.added_delay_ms == 0 and c.load]
    b = [i for i, c in enumerate(result.cells) if c.config.added_delay_ms > 0 and c.load]
    if min(len(a), len(b)) < 2 * 3:
        raise CalibrationError(f"too few measured runs: {len(a)} as is, {len(b)} slowed")
    aa_passed, ab_failed = gate_trials(result, a, b, thresholds, seed)
    rps_a, rps_b = (statistics.median(_rps(result, arm)) for arm in (a, b))
    return Calibration(aa_passed, ab_failed, TRIALS, delay_ms, rps_b / rps_a)


def run(
    *, runs: int, duration_s: float, users: int, slowdown: float, fail_on: str, output: Path,
    console: Console,
) -> Calibration:  # fmt: skip
    figures = calibrate(
        runs=runs, duration_s=duration_s, users=users, slowdown=slowdown, fail_on=fail_on,
        output=output,
    )  # fmt: skip
    console.print(
        f"A/A (same code, random halves of {runs} runs): gate passed "
        f"{figures.aa_passed}/{figures.trials}\n"
        f"A/B ({slowdown:.0%} slowdown: +{figures.added_delay_ms:.3f} ms CPU per request, "
        f"measured throughput ratio {figures.measured_rps_ratio:.3f}): gate failed "
        f"{figures.ab_failed}/{figures.trials}\n"
        f"thresholds: {fail_on}; runs kept in {output}",
        highlight=False,
    )
    return figures
