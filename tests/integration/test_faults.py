"""The harness killed at each phase leaves nothing behind and keeps what it measured.

The run has two cells: one on SQLite, then one on the throwaway local cluster, so
provisioning starts real postgres processes with one cell already on disk.  A phase
is recognised by the harness's children and by results.json; the harness is frozen
(SIGSTOP) the moment its phase is seen, checked again, then sent the signal.  After
SIGKILL nothing can clean up in the harness: the children die with it (parent-death
signal) and the next run removes its temp dirs.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from sessionbench.bench.leftovers import OWNER_FILE, Owner
from sessionbench.results import RunResult

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # so: the local cluster


@dataclass
class Snapshot:
    children: dict[int, str]  # pid -> command line
    cells: int  # cells in results.json
    locust_seen: bool  # a load generator ran during the second cell

    def running(self, word: str) -> bool:
        return any(word in cmd for cmd in self.children.values())


PHASES: dict[str, Callable[[Snapshot], bool]] = {
    "provisioning": lambda s: s.cells == 1 and s.running("postgres") and not s.running("uvicorn"),
    "target start-up": lambda s: s.cells == 1 and s.running("uvicorn") and not s.running("locust"),
    "load": lambda s: s.cells == 1 and s.running("locust"),
    "quiesce/check": lambda s: s.cells == 1 and s.locust_seen and not s.running("locust"),
    "report": lambda s: s.cells == 2,
}
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


@dataclass
class Watcher:
    pid: int
    results: Path
    seen: set[int] = field(default_factory=set)
    locust_seen: bool = False

    def snapshot(self) -> Snapshot:
        children = {}
        try:
            for child in psutil.Process(self.pid).children(recursive=True):
                try:
                    children[child.pid] = " ".join(child.cmdline()) or child.name()
                except psutil.Error:
                    continue
        except psutil.Error:
            pass
        self.seen |= set(children)
        try:
            cells = len(json.loads(self.results.read_text())["cells"])
        except (OSError, ValueError):
            cells = 0
        snap = Snapshot(children, cells, self.locust_seen)
        self.locust_seen |= cells == 1 and snap.running("locust")
        return snap


def _temp_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("sessionbench-*"))


def _left_over(dirs: set[Path]) -> set[Path]:
    """Those whose owner has ended, or that lost their owner file (a child still writing
    while the dir was removed recreates it without one); not a live run's."""
    left = set()
    for path in dirs:
        try:
            owner = Owner.decode((path / OWNER_FILE).read_text())
        except OSError:
            owner = None
        if path.exists() and (owner is None or owner.is_gone()):
            left.add(path)
    return left


def _wait_gone(pids: set[int], timeout_s: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def _sessionbench(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SESSIONBENCH_POSTGRES_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "sessionbench", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, **NO_DOCKER},
    )  # fmt: skip


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
@pytest.mark.parametrize("phase", list(PHASES))
def test_killed_at_a_phase_leaves_nothing_and_keeps_results(
    phase: str, sig: signal.Signals, tmp_path: Path
) -> None:
    temp_dirs = _temp_dirs()
    cli = _sessionbench(
        "run", "-s", "async-session", "--db", "sqlite", "--db", "postgres",
        "--scenario", "crud", "--duration", "1s", "--users", "2", "--output", str(tmp_path),
    )  # fmt: skip
    watcher = Watcher(cli.pid, tmp_path / "results.json")
    deadline = time.monotonic() + 120
    frozen = None
    while frozen is None and cli.poll() is None and time.monotonic() < deadline:
        if PHASES[phase](watcher.snapshot()):
            os.kill(cli.pid, signal.SIGSTOP)
            snap = watcher.snapshot()
            if PHASES[phase](snap):
                frozen = snap
            else:  # the phase ended between the two looks: let it run, fail below
                os.kill(cli.pid, signal.SIGCONT)
                break
        time.sleep(0.01)
    assert frozen is not None, f"never caught the harness in phase {phase!r}"
    os.kill(cli.pid, sig)
    os.kill(cli.pid, signal.SIGCONT)
    _out, err = cli.communicate(timeout=60)

    assert "Traceback" not in err
    if sig == signal.SIGKILL:
        assert cli.returncode == -signal.SIGKILL
        assert _wait_gone(watcher.seen) == []  # children died with the harness
        rerun = _sessionbench(
            "run", "-s", "async-session", "--scenario", "health", "--duration", "1s",
            "--users", "1", "--output", str(tmp_path / "rerun"),
        )  # fmt: skip
        _out, rerun_err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, rerun_err
    else:
        assert cli.returncode == 130, err
        assert _wait_gone(watcher.seen) == []
    # Owned or not: a child still writing while its dir was removed leaves one unowned.
    assert _left_over(_temp_dirs() - temp_dirs) == set()

    completed = frozen.cells
    stored = RunResult.model_validate_json((tmp_path / "results.json").read_text())
    assert len(stored.cells) >= completed
    assert [c.status for c in stored.cells[:completed]] == ["ok"] * completed
    if sig != signal.SIGKILL:
        assert stored.interrupted or len(stored.cells) == 2
