"""Garbage-collection pauses, from `gc.callbacks`, so loop stalls can be attributed.

A full collection in a busy app stops every thread for tens of milliseconds; without
this record such a pause would be blamed on the session strategy.
"""

import gc
import time
from collections import deque
from typing import Any

from sessionbench.reading import GcReading

MAX_PAUSES = 512


class GcWatch:
    def __init__(self) -> None:
        self.pauses: deque[tuple[float, float, int]] = deque(maxlen=MAX_PAUSES)
        self.collections = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self._started: float | None = None

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
            return
        if self._started is None:
            return
        self.pauses.append((self._started, now, int(info.get("generation", 0))))
        pause_ms = (now - self._started) * 1000
        self.collections += 1
        self.total_ms += pause_ms
        self.max_ms = max(self.max_ms, pause_ms)
        self._started = None

    @property
    def collecting(self) -> bool:
        """A collection is running now (read from another thread)."""
        return self._started is not None

    def time_in_gc(self, start: float, end: float) -> float:
        """Seconds of GC pause overlapping [start, end]."""
        # A copy first: a collection (and this callback) may run during the sum itself.
        pauses = tuple(self.pauses)
        return sum(max(0.0, min(end, b) - max(start, a)) for a, b, _gen in pauses)

    def install(self) -> None:
        gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def snapshot(self) -> GcReading:
        return GcReading(
            collections=self.collections,
            pause_total_ms=round(self.total_ms, 3),
            pause_max_ms=round(self.max_ms, 3),
        )
