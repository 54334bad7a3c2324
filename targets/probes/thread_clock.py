"""How another thread spent its time: on the CPU, or waiting for one.

Linux's `/proc/self/task/<tid>/schedstat` gives both (nanoseconds on the CPU, and
runnable but waiting on a run queue), so the rest of the wall time is time the thread
was blocked: in a system call, on a lock or the GIL.  Elsewhere the thread's CPU clock
gives the first and the run-queue wait reads as zero.
"""

import os
import threading
import time


class ThreadClock:
    def __init__(self, ident: int, native_id: int) -> None:
        self._ident = ident
        try:
            self._fd: int | None = os.open(f"/proc/self/task/{native_id}/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    @classmethod
    def of_current_thread(cls) -> "ThreadClock":
        return cls(threading.get_ident(), threading.get_native_id())

    def read(self) -> tuple[float, float]:
        """(seconds on the CPU, seconds runnable but not running) since the thread began."""
        if self._fd is not None:
            try:
                on_cpu, runnable = os.pread(self._fd, 128, 0).split()[:2]
                return int(on_cpu) / 1e9, int(runnable) / 1e9
            except (OSError, ValueError):
                # The thread ended: its CPU clock must not be asked for (its id may be
                # gone); it never reads as waiting.
                return time.perf_counter(), 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(self._ident)), 0.0
        except (AttributeError, OSError):  # no per-thread clock: never reads as waiting
            return time.perf_counter(), 0.0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
