"""The CLI's answers to bad input: one line on stderr, the documented exit code."""

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sessionbench.bench.cli import parse_rate

from .conftest import PASSWORD

# Files for the `{dir}/NAME` placeholders below: scenario files and results files.
FILES: dict[str, str | bytes] = {
    "bad.toml": "[crud\nusers = 2\n",
    "binary.toml": b"\xff\xfe\x00\x81",
    "not-a-table.toml": "fast = 3\n",
    "unknown-route.toml": "[fast]\ntasks = { teleport = 1 }\n",
    "no-tasks.toml": "[fast]\nusers = 2\n",
    "zero-users.toml": "[fast]\nusers = 0\ntasks = { read = 1 }\n",
    "negative-slow.toml": "[fast]\nslow_ms = -5\ntasks = { slow = 1 }\n",
    "negative-stall.toml": "[fast]\nstall_ms = -1\ntasks = { stall = 1 }\n",
    "zero-weight.toml": "[fast]\ntasks = { read = 0 }\n",
    "duplicate.toml": "[mixed]\ntasks = { read = 1 }\n",
    "corrupt.json": "{this is not json",
    "truncated.json": '{"schema_version": 2, "started_at": "2025-01-',
    "newer.json": '{"schema_version": 99}',
    "not-results.json": '{"hello": "world"}',
    "a-file": "",
}

BAD_INPUTS = [
    # names
    (["run", "--strategy", "nope"], 2, "unknown strategy 'nope'; valid: sync-in-async"),
    (["run", "--db", "oracle"], 2, "unknown database 'oracle'; valid: sqlite, postgres"),
    (["run", "--scenario", "x"], 2, "unknown scenario 'x'; valid: mixed"),
    (["run", "--pool", "huge"], 2, "unknown pool variant 'huge'"),
    (["run", "--db", "postgres", "--async-driver", "pg8000"], 2, "unknown async driver"),
    (["run", "--bogus"], 2, "No such option: --bogus"),
    # durations, user counts, pool overrides
    (["run", "--duration", "0s"], 2, "out of range"),
    (["run", "--duration", "100h"], 2, "out of range"),
    (["run", "--duration", "-5s"], 2, "invalid duration"),
    # open-model arrival rates
    (["run", "--rate", "fast"], 2, "invalid --rate 'fast'"),
    (["run", "--rate", "10,,20"], 2, "invalid --rate '10,,20'"),
    (["run", "--rate", "0"], 2, "--rate '0' out of range"),
    (["run", "--rate", "-5"], 2, "--rate '-5' out of range"),
    (["run", "--rate", "9000"], 2, "--rate '9000' out of range"),
    (["run", "--rate", "nan"], 2, "--rate 'nan' out of range"),
    (["run", "--duration", "forever"], 2, "invalid duration"),
    (["run", "--users", "0"], 2, "--users must be between 1 and 1000"),
    (["run", "--users", "-3"], 2, "--users must be between 1 and 1000"),
    (["run", "--users", "100000"], 2, "--users must be between 1 and 1000"),
    (["run", "--users", "many"], 2, "Invalid value for '--users'"),
    (["run", "--pool-size", "0"], 2, "--pool-size must be at least 1"),
    (["run", "--max-overflow", "-7"], 2, "--max-overflow must be -1 (unlimited) or more"),
    (["run", "--pool-timeout", "0"], 2, "--pool-timeout must be positive"),
    (["run", "--shard", "3/2"], 2, "invalid shard '3/2'"),
    (["run", "--shard", "half"], 2, "use INDEX/COUNT"),
    (["run", "--workers", "-1"], 2, "--workers and --remote-workers must be between 0 and 64"),
    (["run", "--target-workers", "0"], 2, "--target-workers must be between 1 and 16, got 0"),
    (["run", "--target-workers", "17"], 2, "--target-workers must be between 1 and 16, got 17"),
    (
        ["run", "--target-url", "http://127.0.0.1:9", "--target-workers", "2"],
        2,
        "--target-workers starts the app",
    ),
    (["run", "--remote-workers", "2"], 2, "--remote-workers needs --master-bind HOST:PORT"),
    (["run", "--workers", "1", "--master-bind", "nohost"], 2, "invalid master address"),
    (
        [
            "run",
            "--remote-workers",
            "1",
            "--master-bind",
            "127.0.0.1:5557",
            "--scenario",
            "crud",
            "--scenario",
            "slow",
        ],
        2,
        "--remote-workers takes one --scenario",
    ),
    (["worker", "--master", "127.0.0.1"], 2, "invalid master address '127.0.0.1'"),
    (["worker", "--master", "127.0.0.1:5557", "--scenario", "x"], 2, "unknown scenario 'x'"),
    # database URLs
    (["run", "--db", "postgres", "--postgres-url", "nonsense"], 2, "malformed database URL"),
    (["run", "--db", "postgres", "--postgres-url", "oracle://u:hunter2@h/x"], 2, "unsupported"),
    (
        ["run", "--db", "postgres", "--postgres-url", "postgresql+pg8000://u:hunter2@h/x"],
        2,
        "unknown driver 'pg8000' for postgresql; valid: asyncpg, psycopg",
    ),
    (
        ["run", "--db", "postgres", "--postgres-url", "postgresql://u:hunter2@127.0.0.1:1/x"],
        3,
        "postgres skipped: cannot connect",
    ),
    (
        [
            "run",
            "--db",
            "postgres",
            "--postgres-url",
            "postgresql://u:hunter2@no-such-host.invalid/x",
        ],
        3,
        "postgres skipped: cannot connect",
    ),
    # version sets
    (["run", "--with", "fastapi=="], 2, "requirement 'fastapi==' does not parse"),
    (["run", "--with-set", "fastapi<1 FastAPI>0"], 2, "names a package twice"),
    # output directory
    (["run", "--output", "{dir}/a-file"], 2, "cannot use"),
    # scenario files
    (["run", "--scenario-file", "{dir}/missing.toml"], 2, "cannot read scenario file"),
    (["run", "--scenario-file", "{dir}"], 2, "cannot read scenario file"),
    (["run", "--scenario-file", "{dir}/bad.toml"], 2, "cannot read scenario file"),
    (["run", "--scenario-file", "{dir}/binary.toml"], 2, "cannot read scenario file"),
    (["run", "--scenario-file", "{dir}/not-a-table.toml"], 2, "scenario 'fast': expected a table"),
    (["run", "--scenario-file", "{dir}/unknown-route.toml"], 2, "unknown route(s) teleport"),
    (["run", "--scenario-file", "{dir}/no-tasks.toml"], 2, "'tasks' must be a non-empty table"),
    (["run", "--scenario-file", "{dir}/zero-users.toml"], 2, "'users' must be a positive"),
    (["run", "--scenario-file", "{dir}/negative-slow.toml"], 2, "'slow_ms' must be a non-neg"),
    (["run", "--scenario-file", "{dir}/negative-stall.toml"], 2, "'stall_ms' must be a non-neg"),
    (["run", "--scenario-file", "{dir}/zero-weight.toml"], 2, "weights must be positive"),
    (["run", "--scenario-file", "{dir}/duplicate.toml"], 2, "'mixed' is already defined"),
    # results files
    (["report", "{dir}/missing.json", "--format", "md"], 2, "cannot read"),
    (["report", "{dir}/corrupt.json", "--format", "md"], 2, "not valid JSON"),
    (["report", "{dir}/truncated.json", "--format", "md"], 2, "not valid JSON"),
    (["report", "{dir}/newer.json", "--format", "md"], 2, "schema version 99 is newer"),
    (["report", "{dir}/not-results.json", "--format", "md"], 2, "no valid schema_version"),
    (["merge", "{dir}/corrupt.json", "--output", "{dir}/m.json"], 2, "not valid JSON"),
    (["merge", "{dir}/corrupt.json"], 2, "Missing option '--output'"),
    (["merge", "{dir}/newer.json", "--output", "{dir}/m.json"], 2, "schema version 99 is newer"),
    (
        ["compare", "{golden}", "{golden}", "--new-set", "fastapi<1"],
        2,
        "NEW has no cells under version set 'fastapi<1'; it has: installed",
    ),
    (["diagnose", "{dir}/missing.json"], 2, "cannot read"),
    (["diagnose", "{dir}/corrupt.json"], 2, "not valid JSON"),
    (["calibrate", "verdicts", "--results", "{dir}/newer.json"], 2, "schema version 99 is newer"),
    (["calibrate", "probes", "--strategy", "nope"], 2, "unknown strategy 'nope'"),
    (["calibrate", "probes", "--app", "nocolon"], 2, 'use the form "module:attribute"'),
    (["sweep", "-s", "async-session", "--target-workers", "0"], 2, "--target-workers must be"),
]


def sessionbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # In a directory of its own: a default output folder must not land in the checkout.
    with tempfile.TemporaryDirectory(prefix="sessionbench-cli-") as cwd:
        return subprocess.run(
            [sys.executable, "-m", "sessionbench", *args],
            capture_output=True, text=True, timeout=120, check=False, env=env, cwd=cwd,
        )  # fmt: skip


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs")
    for name, content in FILES.items():
        if isinstance(content, bytes):
            (path / name).write_bytes(content)
        else:
            (path / name).write_text(content)
    return path


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    errors = [line for line in result.stderr.splitlines() if line.startswith("sessionbench: ")]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_the_table_covers_at_least_thirty_bad_inputs() -> None:
    assert len(BAD_INPUTS) >= 30


@pytest.fixture(scope="module")
def bad_input_results(input_dir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every bad input's run, started a few at a time: each is a process that mostly
    imports, and one after the other they took minutes."""
    golden = Path(__file__).parent / "golden" / "results-v2.json"

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return sessionbench(
            *[arg.replace("{dir}", str(input_dir)).replace("{golden}", str(golden)) for arg in args]
        )

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        arg_lists = [args for args, _code, _message in BAD_INPUTS]
        return {
            " ".join(args): result
            for args, result in zip(arg_lists, pool.map(run, arg_lists), strict=True)
        }


@pytest.mark.parametrize(("args", "code", "message"), BAD_INPUTS)
def test_bad_input_gets_one_line_and_an_exit_code(
    args: list[str],
    code: int,
    message: str,
    bad_input_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    assert_one_line(bad_input_results[" ".join(args)], code, message)


def test_a_scenario_file_adds_scenarios(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text('[my-reads]\ndescription = "reads only"\nusers = 2\ntasks = { read = 1 }\n')
    result = sessionbench(
        "run", "-s", "async-session", "--scenario", "my-reads", "--scenario-file", str(extra),
        "--duration", "1s", "--output", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "async-session/sqlite+aiosqlite/default/my-reads" in result.stdout


def test_list_shows_every_catalogue() -> None:
    result = sessionbench("list")
    assert result.returncode == 0
    for name in ("async-scoped", "sqlite", "postgres", "small", "mixed", "health"):
        assert name in result.stdout


def test_a_wrong_password_gets_one_line_without_either_password(password_postgres: str) -> None:
    wrong = password_postgres.replace(PASSWORD, "Wr0ng-pw-77")
    result = sessionbench("run", "--db", "postgres", "--postgres-url", wrong, "--duration", "1s")
    assert_one_line(result, 3, "password authentication failed")
    assert PASSWORD not in result.stdout + result.stderr
    assert "Wr0ng-pw-77" not in result.stdout + result.stderr


def test_a_rate_is_constant_or_equal_steps() -> None:
    assert parse_rate("50") == (50.0,)
    assert parse_rate("20, 40,80.5") == (20.0, 40.0, 80.5)


def test_an_unusable_environment_cache_gets_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    env = {**os.environ, "SESSIONBENCH_VENV_CACHE": str(tmp_path / "a-file" / "venvs")}
    result = sessionbench("run", "--with", "fastapi==0.115.*", env=env)
    assert_one_line(result, 2, "cannot keep environments in")
