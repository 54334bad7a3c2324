"""Each core strategy, started for real under uvicorn and driven by Locust."""

import subprocess
import sys
from pathlib import Path

import pytest

from sessionbench.results import CellResult, RunResult

from .conftest import run_cells

pytestmark = pytest.mark.integration
CORE = ["sync-in-async", "sync-threadpool", "async-session", "async-scoped"]


def _by_strategy(result: RunResult) -> dict[str, CellResult]:
    assert not result.skipped, result.skipped
    return {cell.config.strategy: cell for cell in result.cells}


def _assert_healthy_path(result: RunResult) -> None:
    cells = _by_strategy(result)
    assert set(cells) == set(CORE)
    for name, cell in cells.items():
        assert cell.status == "ok", (name, cell.error)
        assert cell.load is not None
        assert cell.load.requests > 0, name
        # Every answer a success; a request still unanswered 2 s after load stopped (a
        # write queued on SQLite's lock on a busy machine) is counted, not an error answer.
        answered_failures = cell.load.failures - cell.load.unfinished
        assert answered_failures == 0, (name, cell.load.failures_by_kind)
        routes = {r.name for r in cell.load.routes}
        assert {"/items/{id}", "/items", "/transfer"} <= routes, name


def _assert_fail_rolls_back(result: RunResult) -> None:
    cells = _by_strategy(result)
    assert cells
    for name, cell in cells.items():
        assert cell.load is not None and cell.checks is not None, (name, cell.error)
        fail_route = next(r for r in cell.load.routes if r.name == "/fail")
        assert fail_route.requests > 0, name
        assert cell.checks.failed_writes_committed == 0, name


def test_core_strategies_serve_the_healthy_path_on_sqlite(tmp_path: Path) -> None:
    _assert_healthy_path(run_cells(tmp_path, CORE, "sqlite", "crud"))


def test_fail_route_rolls_back_on_sqlite(tmp_path: Path) -> None:
    # Not sync-in-async: on SQLite its error path stalls the whole app for SQLite's 5 s
    # busy timeout per failed write (the rollback waits for the threadpool, which waits
    # for the loop, which waits for the write lock), so a short run completes nothing.
    _assert_fail_rolls_back(run_cells(tmp_path, CORE[1:], "sqlite", "errors"))


@pytest.mark.postgres
def test_core_strategies_serve_the_healthy_path_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    _assert_healthy_path(run_cells(tmp_path, CORE, "postgres", "crud", postgres_url=postgres_url))


@pytest.mark.postgres
def test_fail_route_rolls_back_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    _assert_fail_rolls_back(
        run_cells(tmp_path, CORE, "postgres", "errors", postgres_url=postgres_url)
    )


@pytest.mark.mysql
def test_core_strategies_serve_the_healthy_path_on_mysql(tmp_path: Path, mysql_url: str) -> None:
    _assert_healthy_path(run_cells(tmp_path, CORE, "mysql", "crud", mysql_url=mysql_url))


def test_cli_run_with_default_output_in_the_working_directory(tmp_path: Path) -> None:
    """What README's first command does, briefly: relative paths, exit code, table."""
    cli = subprocess.run(
        [sys.executable, "-m", "sessionbench", "run", "-s", "async-session", "--scenario",
         "crud", "--duration", "2s", "--users", "4"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    [results] = list(tmp_path.glob("sessionbench-results/*/results.json"))
    stored = RunResult.model_validate_json(results.read_text())
    assert stored.cells[0].status == "ok" and stored.cells[0].load is not None
    assert stored.cells[0].load.requests > 0
    assert "async-session" in cli.stdout and "req/s" in cli.stdout
