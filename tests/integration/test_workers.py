"""Locust's distributed mode: a master and workers on loopback drive a real target."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.bench.server import free_port
from sessionbench.bench.workers import Workers
from sessionbench.results import CellResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

pytestmark = pytest.mark.integration


def _run(output: Path, workers: Workers) -> CellResult:
    cells = expand(
        [strategies().get("async-session")],
        [DATABASES.get("sqlite")],
        [POOLS.get("default")],
        [load_scenarios().get("crud")],
        duration_s=3,
        users=8,
        workers=workers,
    )
    [cell] = execute(RunPlan(cells, output, ProvisionOptions())).cells
    assert cell.status == "ok", cell.error
    return cell


def test_master_and_two_workers_count_every_request_and_write(tmp_path: Path) -> None:
    cell = _run(tmp_path, Workers(local=2))
    load, checks = cell.load, cell.checks
    assert load is not None and checks is not None
    assert load.workers == 2 and len(load.worker_cpu_percent) == 2
    # Both workers sent load, and the master's merged statistics hold all of it.
    assert len(load.worker_requests) == 2 and min(load.worker_requests) > 0
    assert load.requests == sum(load.worker_requests)
    # Each worker wrote its own acknowledged ids; all of them were checked in the table.
    celldir = next(p for p in tmp_path.iterdir() if p.is_dir())
    per_worker = [json.loads(p.read_text()) for p in sorted(celldir.glob("acknowledged-*"))]
    assert len(per_worker) == 2 and all(per_worker)
    assert checks.acknowledged_writes == sum(len(ids) for ids in per_worker)
    assert checks.missing_writes == 0 and checks.read_your_write_misses == 0


def test_a_worker_started_with_the_worker_command_joins_the_run(tmp_path: Path) -> None:
    port = free_port()
    joining = subprocess.Popen(
        [sys.executable, "-m", "sessionbench", "worker", "--master", f"127.0.0.1:{port}",
         "--scenario", "crud"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        cell = _run(tmp_path, Workers(local=1, remote=1, port=port))
    finally:
        joining.terminate()
        output, _ = joining.communicate(timeout=30)
    load = cell.load
    assert load is not None and load.workers == 2
    [local] = load.worker_requests
    assert 0 < local < load.requests  # the joining worker sent the rest
    assert "load sent for cell 1" in output
