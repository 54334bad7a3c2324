"""Child processes (targets, load generator, database servers) that never outlive a run.

Every child is started through `ChildProcesses.spawn`:
- in its own session, so a terminal's Ctrl-C reaches only the harness, which then stops
  the children in order;
- with the kernel's parent-death signal set (Linux), so even a SIGKILL of the harness
  takes them down;
- tracked, so leaving the `with` block stops whatever is still running, by PID.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> int | None:
    """Terminate, wait up to `grace_s`, then kill.  Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def kill_group(proc: subprocess.Popen[bytes], wait_s: float = 5.0) -> None:
    """SIGKILL a child started in its own session and whatever it started in turn (its
    process group), and wait, up to `wait_s`, until none of them is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class ChildProcesses:
    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []

    def spawn(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        death_signal: int = signal.SIGTERM,
    ) -> subprocess.Popen[bytes]:
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                user=user,
                start_new_session=True,
                preexec_fn=lambda: _die_with_parent(death_signal),
            )
        self._children.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> int | None:
        code = stop_process(proc, grace_s)
        if proc in self._children:
            self._children.remove(proc)
        return code

    def stop_all(self) -> None:
        for proc in reversed(list(self._children)):
            self.stop(proc)

    def __enter__(self) -> "ChildProcesses":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a child's log, for an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
