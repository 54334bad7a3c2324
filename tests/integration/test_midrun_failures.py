"""A target that dies and a database that goes away mid-run: reported in the cell's
result, and the run goes on to the next cell."""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
import pytest

from .conftest import run_cells

pytestmark = pytest.mark.integration


def _command(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # exited (or a zombie) since it was listed
        return ""


def _during_load(action: Callable[[psutil.Process], None]) -> threading.Thread:
    """Once the first cell's load generator runs, wait a second and act on the target."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            commands = {p: _command(p) for p in psutil.Process().children(recursive=True)}
            target = next((p for p, cmd in commands.items() if "uvicorn" in cmd), None)
            if target is not None and any("locust" in cmd for cmd in commands.values()):
                time.sleep(1)
                action(target)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_target_killed_mid_run_is_the_cells_error_and_the_run_goes_on(tmp_path: Path) -> None:
    watcher = _during_load(lambda target: target.kill())
    result = run_cells(tmp_path, ["async-session", "sync-threadpool"], "sqlite", "crud")
    watcher.join()
    first, second = result.cells
    assert first.status == "error" and first.error is not None
    assert "target died" in first.error, first.error
    assert second.status == "ok" and second.load is not None and second.load.requests > 0


@pytest.mark.postgres
def test_database_connections_terminated_mid_run_are_reported(
    tmp_path: Path, postgres_url: str
) -> None:
    def terminate(_target: psutil.Process) -> None:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE 'sessionbench-%'"
            )

    watcher = _during_load(terminate)
    result = run_cells(
        tmp_path, ["async-session", "sync-threadpool"], "postgres", "crud",
        postgres_url=postgres_url,
    )  # fmt: skip
    watcher.join()
    first, second = result.cells
    assert first.status == "ok" and first.load is not None
    # The pool's connections died under it: requests failed, counted by their cause.
    assert first.load.failures > 0
    assert sum(f.occurrences for f in first.load.failures_by_kind) == first.load.failures
    assert second.status == "ok" and second.load is not None and second.load.failures == 0
