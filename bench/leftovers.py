"""What a killed run leaves behind, and removing it at the start of the next run.

A run stops its children and removes its temp dirs and containers on every exit it
sees (normal end, error, Ctrl-C, SIGTERM).  A SIGKILL gives it no chance: its children
still die with it (parent-death signal), but temp dirs and containers stay.  So each
temp dir and container records its owner (pid, process start time, host), and every
run first removes the leftovers of owners that are no longer running.  The start time
tells a reused pid from the owner; another host's leftovers are never touched.
"""

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil

TEMP_PREFIX = "sessionbench-"
OWNER_FILE = ".sessionbench-owner"


@dataclass(frozen=True)
class Owner:
    pid: int
    started: float  # the process's start time (s since the epoch, 2 decimals)
    host: str

    @classmethod
    def current(cls) -> "Owner":
        pid = os.getpid()
        return cls(pid, _start_time(pid) or 0.0, socket.gethostname())

    def encode(self) -> str:
        return f"{self.pid} {self.started:.2f} {self.host}"

    @classmethod
    def decode(cls, text: str) -> "Owner | None":
        try:
            pid, started, host = text.split()
            return cls(int(pid), float(started), host)
        except ValueError:
            return None

    def is_gone(self) -> bool:
        """True only when this host can tell that the owner has ended."""
        if self.host != socket.gethostname():
            return False
        return _start_time(self.pid) != self.started


def _start_time(pid: int) -> float | None:
    try:
        return round(float(psutil.Process(pid).create_time()), 2)
    except psutil.Error:
        return None


def owned_temp_dir(prefix: str = TEMP_PREFIX) -> Path:
    """A new temp dir that names this process as its owner."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(Owner.current().encode())
    return path


def reap_temp_dirs() -> list[Path]:
    """Remove sessionbench temp dirs whose owner has ended; dirs without an owner stay."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            owner = Owner.decode((path / OWNER_FILE).read_text())
        except OSError:
            continue
        if owner is not None and owner.is_gone():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
