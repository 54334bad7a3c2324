"""Event-loop lag: a fast periodic timer and a watchdog thread that sees what blocked it.

The timer re-arms itself every `PERIOD_S` and records how late it fires.  Its error is
at most one period, so a short period is what makes a 20 ms stall read as ~20 ms; a
timer callback costs a few microseconds, so 500 a second stay far below 1 % of a core.
Nothing of asyncio or uvloop is patched: it is an ordinary `call_at` callback.

The watchdog thread notices when the timer has not run for `WATCHDOG_THRESHOLD_S` and
captures the loop thread's stack (`sys._current_frames()`), so that a stall can name
the code that caused it.  Each stall is attributed to the garbage collector when GC
pauses cover most of it, to code when the loop thread was running Python code, and to
"other" when it was not (it waited for the GIL or the CPU: other threads' doing).
"""

import asyncio
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

from .gcwatch import GcWatch

PERIOD_S = 0.002
# Lateness from which a tick is recorded as a stall with its cause and stack: above the
# few milliseconds a busy but healthy loop takes to reach a timer.
STALL_MS = 15.0
# Lateness below this is scheduling noise and is left out of the total.
LAG_FLOOR_MS = 5.0
WATCHDOG_POLL_S = 0.005
WATCHDOG_THRESHOLD_S = 0.015
# A stall is the collector's when GC pauses cover at least this share of it.
GC_SHARE = 0.5
MAX_STALLS = 200
STACK_DEPTH = 80  # deep enough to reach the app's frames under ORM and driver code


@dataclass
class Stall:
    at_s: float
    duration_ms: float
    cause: str
    stack: list[str]


@dataclass
class LagStats:
    max_ms: float = 0.0
    window_max_ms: float = 0.0
    total_ms: float = 0.0
    ticks: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # whole ms -> ticks

    def record(self, late_ms: float) -> None:
        self.ticks += 1
        bucket = int(late_ms)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + 1
        self.max_ms = max(self.max_ms, late_ms)
        self.window_max_ms = max(self.window_max_ms, late_ms)
        if late_ms >= LAG_FLOOR_MS:
            self.total_ms += late_ms

    def percentile(self, fraction: float) -> float:
        rank, seen = fraction * self.ticks, 0
        for bucket in sorted(self.histogram):
            seen += self.histogram[bucket]
            if seen >= rank:
                return float(bucket)
        return 0.0


# Innermost frames of an event loop waiting for work (asyncio's selector, uvloop's run):
# a stall seen there was not caused by Python code on the loop thread.
IDLE_FRAMES = {"select", "_run_once", "run_forever", "run_until_complete", "run"}


def _is_idle(stack: list[str]) -> bool:
    if not stack:
        return True
    innermost = stack[-1]
    return innermost.rsplit(" in ", 1)[-1] in IDLE_FRAMES and (
        "asyncio" in innermost or "selectors" in innermost or "uvloop" in innermost
    )


def _format_stack(frame: object) -> list[str]:
    summary = traceback.extract_stack(frame)  # type: ignore[arg-type]
    return [f"{f.filename}:{f.lineno} in {f.name}" for f in summary][-STACK_DEPTH:]


class LoopMonitor:
    def __init__(self, gc_watch: GcWatch) -> None:
        self.gc_watch = gc_watch
        self.lag = LagStats()
        self.stalls: deque[Stall] = deque(maxlen=MAX_STALLS)
        self.started = time.perf_counter()
        self.last_tick = self.started
        self._due = self.started
        self._captures: deque[tuple[float, list[str]]] = deque(maxlen=64)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._watchdog = threading.Thread(
            target=self._watch, name="sessionbench-watchdog", daemon=True
        )
        self._loop_thread_id = threading.get_ident()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._arm(time.perf_counter())
        self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._watchdog.is_alive():
            self._watchdog.join(timeout=1)

    def _arm(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + PERIOD_S
        self._handle = self._loop.call_later(PERIOD_S, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        late_ms = max(0.0, (now - self._due) * 1000)
        self.lag.record(late_ms)
        if late_ms >= STALL_MS:
            self._record_stall(self.last_tick, now, late_ms)
        self.last_tick = now
        self._arm(now)

    def _record_stall(self, since: float, now: float, late_ms: float) -> None:
        in_gc = self.gc_watch.time_in_gc(since, now)
        # The watchdog's capture during this stall (it may land just after the loop resumed).
        stack = next((s for at, s in reversed(self._captures) if at >= since), [])
        if in_gc >= GC_SHARE * (now - since):
            cause = "gc"
        elif _is_idle(stack):
            cause = "other"  # no Python code on the loop: GIL or CPU taken by other threads
        else:
            cause = "code"
        self.stalls.append(
            Stall(
                at_s=since - self.started,
                duration_ms=late_ms,
                cause=cause,
                stack=stack if cause == "code" else [],
            )
        )

    def _watch(self) -> None:
        captured_for = 0.0
        while not self._stop.wait(WATCHDOG_POLL_S):
            last = self.last_tick
            if last != captured_for and time.perf_counter() - last > WATCHDOG_THRESHOLD_S:
                frame = sys._current_frames().get(self._loop_thread_id)
                if frame is not None:
                    self._captures.append((time.perf_counter(), _format_stack(frame)))
                captured_for = last
