"""A target under two uvicorn worker processes: each serves, each is read on its own
port and summed, the verdicts name the worker, and none outlives the harness."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.results import CellResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .test_own_apps import run_app

pytestmark = pytest.mark.integration


def _run(output: Path, strategy: str, scenario: str, postgres_url: str) -> CellResult:
    cells = expand(
        [strategies().get(strategy)], [DATABASES.get("postgres")], [POOLS.get("default")],
        [load_scenarios().get(scenario)], duration_s=4, users=8, target_workers=2,
    )  # fmt: skip
    [cell] = execute(RunPlan(cells, output, ProvisionOptions(postgres_url=postgres_url))).cells
    assert cell.status == "ok", cell.error
    return cell


def _children() -> set[int]:
    """This process's descendants: a session fixture's cluster may be among them."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _worker_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "sessionbench.targets.worker_serve" in cmdline:
            found.append(proc)
    return found


@pytest.mark.postgres
def test_two_workers_each_serve_and_their_readings_add_up(
    tmp_path: Path, postgres_url: str
) -> None:
    before = _children()
    cell = _run(tmp_path, "async-session", "crud", postgres_url)
    assert cell.config.id.endswith("crud@target-workers=2")
    assert cell.config.target_workers == 2 and cell.config.server_max_connections
    load, diagnostics = cell.load, cell.diagnostics
    assert load is not None and diagnostics is not None and diagnostics.final is not None
    workers = diagnostics.workers
    assert len(workers) == 2 and len({w.pid for w in workers}) == 2
    # Both served requests, and each holds connections the server sees as its own.
    assert all(w.reading.requests.started > 0 for w in workers)
    assert all((w.server_connections or 0) > 0 for w in workers)
    # The cell's reading is the workers' sum, and it saw the load Locust sent (plus the
    # harness's own read-your-write probes).
    final = diagnostics.final
    assert final.requests.started == sum(w.reading.requests.started for w in workers)
    assert final.pool.checkouts == sum(w.reading.pool.checkouts for w in workers)
    assert abs(final.requests.started - load.requests) <= 0.1 * load.requests
    assert load.error_rate == 0
    assert not [f for f in cell.findings if f.severity != "info"]
    assert not [w.pid for w in workers if psutil.pid_exists(w.pid)]
    assert _children() <= before, "processes left running after the cell"


@pytest.mark.postgres
def test_a_blocking_strategy_is_caught_and_its_workers_named(
    tmp_path: Path, postgres_url: str
) -> None:
    cell = _run(tmp_path, "sync-in-async", "slow", postgres_url)
    assert cell.diagnostics is not None
    pids = {w.pid for w in cell.diagnostics.workers}
    [finding] = [f for f in cell.findings if f.kind == "event-loop-blocking"]
    named = str(finding.evidence["workers"])
    assert any(str(pid) in named for pid in pids) and "of 2" in named
    assert finding.evidence["worst_worker"] in pids
    # Every stall is tagged with the worker whose loop it held.
    assert {s.worker for s in cell.diagnostics.stalls} <= pids


def test_workers_die_with_a_harness_killed_by_sigkill(tmp_path: Path) -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "sessionbench", "run", "-s", "async-session", "--scenario",
         "crud", "--duration", "20s", "--users", "2", "--target-workers", "2",
         "--output", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and cli.poll() is None and len(workers) < 2:
        workers = [p for p in _worker_processes() if p.ppid() == cli.pid]
        time.sleep(0.2)
    assert len(workers) == 2, "the target's two workers never started"
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait(timeout=10)
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers outlived the harness: {[p.pid for p in alive]}"


@pytest.mark.postgres
def test_an_own_apps_pool_runs_out_in_a_worker_and_the_worker_is_named(
    tmp_path: Path, postgres_url: str
) -> None:
    # feed holds a connection of its pool of 3 per open stream: 8 users over 2 workers
    # leave at least one worker with more streams than connections.
    before = _children()
    found, cell = run_app("feed", tmp_path, postgres_url, "asyncpg", 8, target_workers=2)
    assert cell.config.target_workers == 2 and cell.diagnostics is not None
    assert len(cell.diagnostics.workers) == 2
    assert "pool-exhaustion" in found
    [finding] = [f for f in cell.findings if f.kind == "pool-exhaustion"]
    assert "of 2 (pid" in str(finding.evidence["workers"])
    assert _children() <= before, "processes left running after the cell"
