"""Driving a target with Locust, headless, in its own process.

Locust is never imported here: it monkey-patches the standard library with gevent at
import time.  Its output is read by `locust_results.py`.  The generator's own CPU is
sampled while it runs: a saturated generator measures itself, not the target, and the
run says so.
"""

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import psutil

from sessionbench.errors import CellError
from sessionbench.results import LoadResult
from sessionbench.scenarios.catalogue import LOCUSTFILE, Scenario

from .locust_results import parse_results
from .processes import ChildProcesses, tail

# Time allowed beyond the run time for spawn, stop and writing reports.
SHUTDOWN_ALLOWANCE_S = 30.0
# When load stops, a request already sent may finish for this long (Locust's
# --stop-timeout: a user ends after its current task, and no new request starts), so a
# healthy target's last answers count with their true latency.  Killing at once would
# make every cell's last `users` requests unfinished; waiting long would let a stalled
# target hide its stall.  Longer than any healthy request of the scenarios (200 ms
# queries); a request still unanswered then is killed and counted unfinished.
STOP_GRACE_S = 2.0


def locust_argv(
    host: str, users: int, duration_s: float, out_prefix: Path, locustfile: Path = LOCUSTFILE
) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
        "--host", host, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{run_time_s(duration_s)}s", "--stop-timeout", f"{STOP_GRACE_S:g}",
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        "--json-file", str(out_prefix), "--csv", str(out_prefix),
    ]  # fmt: skip


def run_time_s(duration_s: float) -> int:
    return math.ceil(duration_s)


def _wait_sampling_cpu(proc: subprocess.Popen[bytes], timeout_s: float) -> float:
    """Wait for the generator; return its CPU use (% of one core) over its lifetime."""
    started = time.monotonic()
    cpu_s = 0.0
    try:
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            if time.monotonic() - started > timeout_s:
                raise CellError(f"load generator still running after {timeout_s:.0f} s")
            times = ps.cpu_times()
            cpu_s = times.user + times.system
            time.sleep(0.2)
    except psutil.NoSuchProcess:
        pass
    # Spawn and shutdown take little CPU; the run-time share dominates the average.
    return 100.0 * cpu_s / max(time.monotonic() - started, 1e-3)


LEDGER_ENV = "SESSIONBENCH_LOAD_FILE"


def ledger_path(out_prefix: Path) -> Path:
    return out_prefix.with_name(out_prefix.name + "_ledger.json")


def locustfile_env(out_prefix: Path, duration_s: float, rate: list[float] | None) -> dict[str, str]:
    """What the locustfile reads: where its ledger goes, the open model's rate, the run time."""
    return {
        LEDGER_ENV: str(ledger_path(out_prefix)),
        "SESSIONBENCH_RATE": json.dumps(rate or []),
        "SESSIONBENCH_RUN_TIME_S": str(run_time_s(duration_s)),
    }


def drive(
    host: str,
    scenario: Scenario,
    users: int,
    duration_s: float,
    children: ChildProcesses,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    rate: list[float] | None = None,
    locustfile: Path = LOCUSTFILE,
) -> LoadResult:
    """Closed model, or open with `rate` (arrivals/s per equal step; `users` the pool)."""
    out_prefix = workdir / "locust"
    log_path = workdir / "locust.log"
    load_env = locustfile_env(out_prefix, duration_s, rate)
    proc = children.spawn(
        locust_argv(host, users, duration_s, out_prefix, locustfile),
        log_path=log_path,
        env={**scenario.to_env(), **load_env, **(extra_env or {})},
        cwd=workdir,
    )
    try:
        cpu_percent = _wait_sampling_cpu(proc, duration_s + SHUTDOWN_ALLOWANCE_S)
    finally:
        children.stop(proc)
    if proc.returncode != 0:
        raise CellError(f"load generator failed (exit {proc.returncode}): {tail(log_path, 3)}")
    return parse_results(out_prefix, cpu_percent, float(run_time_s(duration_s)))
