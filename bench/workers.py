"""Load from several Locust processes: Locust's own distributed mode, master and workers.

One Locust process sends at most about one core's worth of requests (about 10k/s of
GET /health here).  With `run --workers N` the harness starts Locust's master, which
only coordinates and merges the statistics (its `--json-file` holds every worker's
requests), and N worker processes that send the load; `--remote-workers M` makes the
master wait for M more, started on other machines with `sessionbench worker`.  Each
worker is a child of the harness (not forked by Locust's `--processes`), so it dies with
the harness like every other child, and its CPU is watched on its own: the generator is
saturated when any worker is.

Side files a locustfile writes (acknowledged ids, requests sent) are per process: each
local worker gets its own name (`acknowledged-worker-1.json`), the harness reads them
all.  Remote workers write theirs on their own machine, so only local workers' writes
are checked for loss.
"""

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from sessionbench.errors import CellError, UsageError
from sessionbench.results import LoadResult
from sessionbench.scenarios.catalogue import LOCUSTFILE, Scenario

from .loadgen import (
    LEDGER_ENV,
    SHUTDOWN_ALLOWANCE_S,
    ledger_path,
    locust_argv,
    locustfile_env,
)
from .locust_results import parse_results
from .processes import ChildProcesses, tail
from .server import free_port

# How long the master waits for its workers to connect before it gives up (Locust's
# --expect-workers-max-wait); remote workers may need a moment to be started.
EXPECT_WORKERS_WAIT_S = 60
# Environment variables naming a file the locustfile writes: one file per worker.
PER_WORKER_FILES = ("SESSIONBENCH_ACK_FILE", "SESSIONBENCH_REQUEST_COUNT_FILE", LEDGER_ENV)
REQUEST_COUNT_FILE = "requests.json"
MAX_WORKERS = 64


@dataclass(frozen=True)
class Workers:
    local: int  # worker processes the harness starts on this machine
    remote: int = 0  # workers joining from other machines (`sessionbench worker`)
    bind_host: str = "127.0.0.1"  # the master's address for workers to connect to
    port: int | None = None  # None: a free port, for local workers only

    @property
    def total(self) -> int:
        return self.local + self.remote


def parse_master(text: str) -> tuple[str, int]:
    """HOST:PORT, as given to `--master-bind` and to `sessionbench worker --master`."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"invalid master address {text!r}: use HOST:PORT, e.g. 10.0.0.5:5557")
    return host, int(port)


def check_workers(local: int, remote: int, master_bind: str | None) -> Workers | None:
    """The workers a run asked for (None: one Locust process, as without workers)."""
    if not 0 <= local <= MAX_WORKERS or not 0 <= remote <= MAX_WORKERS:
        raise UsageError(f"--workers and --remote-workers must be between 0 and {MAX_WORKERS}")
    if remote and master_bind is None:
        raise UsageError("--remote-workers needs --master-bind HOST:PORT for them to join")
    if master_bind is not None and not local + remote:
        raise UsageError("--master-bind needs --workers or --remote-workers")
    if not local + remote:
        return None
    host, port = parse_master(master_bind) if master_bind else ("127.0.0.1", None)
    return Workers(local=local, remote=remote, bind_host=host, port=port)


def master_argv(workers: Workers, port: int) -> list[str]:
    return [
        "--master", "--expect-workers", str(workers.total),
        "--expect-workers-max-wait", str(EXPECT_WORKERS_WAIT_S),
        "--master-bind-host", workers.bind_host, "--master-bind-port", str(port),
    ]  # fmt: skip


def worker_argv(master_host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", master_host, "--master-port", str(port), "--loglevel", "WARNING",
    ]  # fmt: skip


def worker_file(path: Path, index: int) -> Path:
    return path.with_name(f"{path.stem}-worker-{index}{path.suffix}")


def worker_files(path: Path) -> list[Path]:
    """The per-worker files of `path`, by worker number."""
    found = path.parent.glob(f"{path.stem}-worker-*{path.suffix}")
    return sorted(found, key=lambda p: int(p.stem.rpartition("-")[2]))


def _worker_env(env: dict[str, str], index: int) -> dict[str, str]:
    return {
        key: str(worker_file(Path(value), index)) if key in PER_WORKER_FILES else value
        for key, value in env.items()
    }


def wait_sampling_cpu(
    master: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]], timeout_s: float
) -> list[float]:
    """Wait for the master; return each worker's CPU use (% of one core) over the wait."""
    started = time.monotonic()
    watched = {proc.pid: psutil.Process(proc.pid) for proc in workers}
    cpu_s = dict.fromkeys(watched, 0.0)
    while master.poll() is None:
        if time.monotonic() - started > timeout_s:
            raise CellError(f"load generator still running after {timeout_s:.0f} s")
        for pid, process in watched.items():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue  # a worker that ended keeps its last reading
            cpu_s[pid] = times.user + times.system
        time.sleep(0.2)
    elapsed = max(time.monotonic() - started, 1e-3)
    return [100.0 * cpu_s[proc.pid] / elapsed for proc in workers]


def _requests_sent(count_file: Path, workers: int) -> list[int]:
    counts = []
    for index in range(1, workers + 1):
        try:
            counts.append(int(json.loads(worker_file(count_file, index).read_text())))
        except (OSError, ValueError):
            counts.append(0)  # a worker that wrote nothing sent nothing it could count
    return counts


def _merge_unfinished(ledger: Path, workers: int) -> None:
    """The master's ledger holds the load window; the requests left unfinished were
    the workers': add theirs to it."""
    try:
        merged = json.loads(ledger.read_text())
    except (OSError, ValueError):
        return  # no window recorded: reading the results says so
    for index in range(1, workers + 1):
        try:
            merged["unfinished"] += json.loads(worker_file(ledger, index).read_text())["unfinished"]
        except (OSError, ValueError, KeyError):
            continue  # a worker that wrote nothing left nothing unfinished it could count
    ledger.write_text(json.dumps(merged))


def drive(
    host: str,
    scenario: Scenario,
    users: int,
    duration_s: float,
    children: ChildProcesses,
    workdir: Path,
    workers: Workers,
    extra_env: dict[str, str] | None = None,
) -> LoadResult:
    out_prefix = workdir / "locust"
    port = workers.port or free_port()
    env = {**scenario.to_env(), **locustfile_env(out_prefix, duration_s, None), **(extra_env or {})}
    count_file = workdir / REQUEST_COUNT_FILE
    master = children.spawn(
        locust_argv(host, users, duration_s, out_prefix) + master_argv(workers, port),
        log_path=workdir / "locust.log",
        # The master keeps the ledger's own name: it records the load window.
        env={k: v for k, v in env.items() if k not in PER_WORKER_FILES or k == LEDGER_ENV},
        cwd=workdir,
    )
    started = [
        children.spawn(
            worker_argv("127.0.0.1", port),
            log_path=workdir / f"locust-worker-{index}.log",
            env=_worker_env({**env, "SESSIONBENCH_REQUEST_COUNT_FILE": str(count_file)}, index),
            cwd=workdir,
        )
        for index in range(1, workers.local + 1)
    ]
    try:
        cpu = wait_sampling_cpu(
            master, started, duration_s + SHUTDOWN_ALLOWANCE_S + EXPECT_WORKERS_WAIT_S
        )
    finally:
        children.stop(master)
        for worker in started:  # they quit with the master; stopped here if they did not
            children.stop(worker)
    if master.returncode != 0:
        log = workdir / "locust.log"
        raise CellError(f"load generator failed (exit {master.returncode}): {tail(log, 3)}")
    busiest = max(cpu, default=0.0)
    _merge_unfinished(ledger_path(out_prefix), workers.local)
    return parse_results(out_prefix, busiest).model_copy(
        update={
            "workers": workers.total,
            "worker_cpu_percent": cpu,
            "worker_requests": _requests_sent(count_file, workers.local),
        }
    )
