"""Running one target app under uvicorn in its own process on 127.0.0.1."""

import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from sessionbench.errors import CellError, CellSkipped
from sessionbench.targets import unsupported
from sessionbench.targets.config import TargetConfig

from .processes import ChildProcesses, tail

READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class TargetPython:
    """The interpreter a target runs under (a version set's, or sessionbench's own) and,
    for another environment than sessionbench's, the directory to import its code from."""

    executable: str = sys.executable
    code_dir: str | None = None

    @property
    def env(self) -> dict[str, str]:
        # PYTHONSAFEPATH: the working directory (a checkout's own sessionbench/) must not
        # shadow the code directory.
        return {"PYTHONPATH": self.code_dir, "PYTHONSAFEPATH": "1"} if self.code_dir else {}


@dataclass(frozen=True)
class TargetWorker:
    """One of several worker processes, reachable alone on its own port."""

    pid: int
    base_url: str


@dataclass(frozen=True)
class RunningTarget:
    base_url: str
    pid: int
    log_path: Path
    poll: Callable[[], int | None]  # the exit code once the (first) process has ended
    workers: tuple[TargetWorker, ...] = ()  # several worker processes; () for one

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.pid for w in self.workers) if self.workers else (self.pid,)

    def ensure_alive(self) -> None:
        """A target that died under load measured its own death, not the strategy."""
        code = self.poll()
        if code is not None:
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
            raise CellError(f"target died during the run ({how}): {tail(self.log_path, 3)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TARGET_FACTORY = "sessionbench.targets.app:create_app"


def uvicorn_argv(
    port: int, factory: str = TARGET_FACTORY, python: TargetPython = TargetPython()
) -> list[str]:
    return [
        python.executable, "-m", "uvicorn", "--factory", factory,
        # uvicorn puts its app dir (default: the working directory) first on sys.path.
        "--app-dir", python.code_dir or ".",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "3",
    ]  # fmt: skip


def worker_argv(
    port: int, own_port: int, factory: str, python: TargetPython = TargetPython()
) -> list[str]:
    return [
        python.executable, "-m", "sessionbench.targets.worker_serve", factory,
        "--app-dir", python.code_dir or ".", "--port", str(port), "--own-port", str(own_port),
    ]  # fmt: skip


def _wait_ready(
    url: str, proc_poll: Callable[[], int | None], log_path: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            code = proc_poll()
            if code == unsupported.EXIT_CODE:
                raise CellSkipped(tail(log_path, 1))
            if code is not None:
                raise StartupFailed(code, f"target exited during start-up: {tail(log_path, 3)}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise CellError(f"target not ready after {timeout_s:.0f} s: {tail(log_path, 3)}")


class StartupFailed(CellError):
    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def running_server(
    factory: str,
    env: dict[str, str],
    children: ChildProcesses,
    workdir: Path,
    ready_path: str = "/health",
    timeout_s: float = READY_TIMEOUT_S,
    python: TargetPython = TargetPython(),
    workers: int = 1,
) -> Iterator[RunningTarget]:
    """uvicorn serving `factory` on a free port, once `ready_path` answers 200."""
    if workers > 1:
        with running_workers(factory, env, children, workdir, ready_path, timeout_s, python,
                             workers) as running:  # fmt: skip
            yield running
        return
    port = free_port()
    log_path = workdir / "target.log"
    proc = children.spawn(
        uvicorn_argv(port, factory, python), log_path=log_path, env={**python.env, **env}
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url + ready_path, proc.poll, log_path, timeout_s)
        yield RunningTarget(base_url=base_url, pid=proc.pid, log_path=log_path, poll=proc.poll)
    finally:
        children.stop(proc)


@contextmanager
def running_workers(
    factory: str,
    env: dict[str, str],
    children: ChildProcesses,
    workdir: Path,
    ready_path: str,
    timeout_s: float,
    python: TargetPython,
    workers: int,
) -> Iterator[RunningTarget]:
    """`workers` processes serving `factory` on one shared port, once each answers
    `ready_path` on its own port.  The target counts as dead when any one has died."""
    port = free_port()
    log_path = workdir / "target.log"  # every worker appends to it
    procs = []
    try:
        for _ in range(workers):
            own_port = free_port()
            proc = children.spawn(
                worker_argv(port, own_port, factory, python),
                log_path=log_path, env={**python.env, **env},
            )  # fmt: skip
            procs.append((proc, f"http://127.0.0.1:{own_port}"))

        def poll() -> int | None:
            return next((c for p, _ in procs if (c := p.poll()) is not None), None)

        for _, url in procs:
            _wait_ready(url + ready_path, poll, log_path, timeout_s)
        yield RunningTarget(
            base_url=f"http://127.0.0.1:{port}", pid=procs[0][0].pid, log_path=log_path,
            poll=poll, workers=tuple(TargetWorker(p.pid, url) for p, url in procs),
        )  # fmt: skip
    finally:
        for proc, _ in procs:  # all at once: each then has its grace period in parallel
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            children.stop(proc)


def running_target(
    config: TargetConfig,
    children: ChildProcesses,
    workdir: Path,
    python: TargetPython = TargetPython(),
    workers: int = 1,
) -> AbstractContextManager[RunningTarget]:
    return running_server(
        TARGET_FACTORY, config.to_env(), children, workdir, python=python, workers=workers
    )
