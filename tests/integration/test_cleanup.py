"""Nothing outlives a run: no child process, no temp dir; Ctrl-C keeps measured results."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from sessionbench.results import RunResult

from .conftest import run_cells

pytestmark = pytest.mark.integration


def _temp_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("sessionbench-*")}


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def test_no_child_process_or_temp_dir_survives_a_run(tmp_path: Path) -> None:
    before, children = _temp_dirs(), _children()
    result = run_cells(tmp_path, ["async-session"], "sqlite", "crud", duration_s=2)
    assert result.cells[0].status == "ok"
    assert _children() <= children  # a session fixture's cluster may be running
    assert _temp_dirs() == before


def _descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def test_sigint_mid_run_stops_every_child_and_keeps_completed_cells(tmp_path: Path) -> None:
    before = _temp_dirs()
    cli = subprocess.Popen(
        [sys.executable, "-m", "sessionbench", "run", "-s", "async-session", "-s",
         "sync-threadpool", "--scenario", "crud", "--duration", "4s", "--users", "4",
         "--output", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    results = tmp_path / "results.json"
    seen: set[int] = set()
    deadline = time.monotonic() + 90
    # Interrupt during the second cell's load, once the first cell's results are on disk.
    while time.monotonic() < deadline and cli.poll() is None:
        seen |= _descendants(cli.pid)
        first_cell_done = (
            results.exists() and RunResult.model_validate_json(results.read_text()).cells
        )
        if first_cell_done and len(_descendants(cli.pid)) >= 2:  # target + load generator
            break
        time.sleep(0.2)
    seen |= _descendants(cli.pid)
    os.kill(cli.pid, signal.SIGINT)
    _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, err
    assert "Traceback" not in err
    assert len(seen) >= 2
    assert not [pid for pid in seen if psutil.pid_exists(pid)]
    assert _temp_dirs() == before
    stored = RunResult.model_validate_json(results.read_text())
    assert stored.interrupted
    assert [c.config.strategy for c in stored.cells][:1] == ["async-session"]
    assert stored.cells[0].status == "ok"
