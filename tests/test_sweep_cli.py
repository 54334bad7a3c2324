"""`sessionbench sweep` on bad input: one line, exit 2, before any load runs."""

import time
from pathlib import Path

import pytest

from sessionbench.bench.sweep_command import CELL_OVERHEAD_S, check_budget, parse_counts
from sessionbench.errors import UsageError

from .test_cli import assert_one_line, sessionbench

BAD_SWEEPS = [
    (["--pool-size", "2,x"], "invalid --pool-size '2,x': use whole numbers"),
    (["--max-overflow", "-2"], "--max-overflow must be -1 (unlimited) or more"),
    (["-s", "seed-004"], "seed-004 keeps its own engine arguments: no pool to sweep"),
]


@pytest.mark.parametrize(("args", "message"), BAD_SWEEPS)
def test_bad_sweep_input_gets_one_line(args: list[str], message: str) -> None:
    base = ["sweep", "-s", "async-session", "--db", "sqlite"]
    assert_one_line(sessionbench(*base, *args), 2, message)


def test_a_grid_too_large_for_the_budget_exits_2_before_any_load(tmp_path: Path) -> None:
    output = tmp_path / "out"
    started = time.monotonic()
    result = sessionbench(
        "sweep", "-s", "async-session", "--db", "sqlite", "--pool-size", "2,4,8,16,32",
        "--users", "8,16,32", "--duration", "10s", "--budget", "2m", "--output", str(output),
    )  # fmt: skip
    assert_one_line(
        result, 2,
        "sweep too large for --budget 2 min: 15 points x 1 repeat(s) x (10 s load + ~6 s per "
        "point) = about 4.0 min; the budget holds 7 points",
    )  # fmt: skip
    assert not output.exists()  # nothing provisioned, started or written
    assert time.monotonic() - started < 30


def test_counts_are_sorted_and_each_once() -> None:
    assert parse_counts("--users", "32, 8,16,8") == [8, 16, 32]
    with pytest.raises(UsageError, match="--users '0,8' out of range: each from 1 to 1000"):
        parse_counts("--users", "0,8")


def test_the_estimate_counts_the_overhead_of_every_point() -> None:
    assert check_budget(4, 2, 5.0, 600.0) == 4 * 2 * (5.0 + CELL_OVERHEAD_S)
    with pytest.raises(UsageError, match="the budget holds 4 points"):
        check_budget(5, 1, 5.0, 4 * (5.0 + CELL_OVERHEAD_S) + 1)
