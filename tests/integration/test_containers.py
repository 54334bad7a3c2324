"""The testcontainers provider on a real Docker engine: a cell runs, nothing is left.

Needs an engine (DOCKER_HOST) and an image that starts without a registry
(SESSIONBENCH_POSTGRES_IMAGE, see scripts/build-postgres-image.sh); skipped otherwise.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionbench.bench.databases.containers import OWNER_LABEL, docker_client

pytestmark = [pytest.mark.integration, pytest.mark.docker]


def _labelled() -> list[str]:
    client = docker_client()
    try:
        return [c.name for c in client.containers.list(all=True, filters={"label": OWNER_LABEL})]
    finally:
        client.close()


def _run(output: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SESSIONBENCH_POSTGRES_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "sessionbench", "run", "-s", "async-session", "--db", "postgres",
         "--scenario", "crud", "--duration", "1s", "--users", "2", "--output", str(output)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


@pytest.mark.usefixtures("docker_engine")
def test_a_cell_runs_in_a_container_and_the_container_is_removed(tmp_path: Path) -> None:
    run = _run(tmp_path)
    out, err = run.communicate(timeout=180)
    assert run.returncode == 0, err
    assert "1 errors" not in out
    assert _labelled() == []


@pytest.mark.usefixtures("docker_engine")
def test_a_container_left_by_a_killed_run_is_removed_by_the_next_run(tmp_path: Path) -> None:
    run = _run(tmp_path / "killed")
    deadline = time.monotonic() + 120
    while not _labelled() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # into provisioning: the container is starting or serving
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    assert _labelled(), "the killed run left no container: nothing to reap"
    again = _run(tmp_path / "next")
    _out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    assert _labelled() == []
