"""The CLI's answers to bad input: one line on stderr, the documented exit code."""

import subprocess
import sys

import pytest

BAD_INPUTS = [
    (["run", "--strategy", "nope"], 2, "unknown strategy 'nope'; valid: sync-in-async"),
    (["run", "--db", "oracle"], 2, "unknown database 'oracle'; valid: sqlite, postgres"),
    (["run", "--scenario", "x"], 2, "unknown scenario 'x'; valid: mixed"),
    (["run", "--pool", "huge"], 2, "unknown pool variant 'huge'"),
    (["run", "--duration", "0s"], 2, "out of range"),
    (["run", "--duration", "forever"], 2, "invalid duration"),
    (["run", "--users", "0"], 2, "--users must be between 1 and 1000"),
    (["run", "--users", "many"], 2, "Invalid value for '--users'"),
    (["run", "--bogus"], 2, "No such option: --bogus"),
    (["run", "--db", "postgres", "--postgres-url", "nonsense"], 2, "malformed database URL"),
    (["run", "--db", "postgres", "--async-driver", "pg8000"], 2, "unknown async driver"),
    (
        ["run", "--db", "postgres", "--postgres-url", "postgresql://u:hunter2@127.0.0.1:1/x"],
        3,
        "postgres skipped: cannot connect",
    ),
]


def sessionbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionbench", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), BAD_INPUTS)
def test_bad_input_gets_one_line_and_an_exit_code(args: list[str], code: int, message: str) -> None:
    result = sessionbench(*args)
    errors = [line for line in result.stderr.splitlines() if line.startswith("sessionbench: ")]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_list_shows_every_catalogue() -> None:
    result = sessionbench("list")
    assert result.returncode == 0
    for name in ("async-scoped", "sqlite", "postgres", "small", "mixed", "health"):
        assert name in result.stdout
