"""Event-loop lag: a fast periodic timer and a watchdog thread that sees what held it.

The timer re-arms itself every `PERIOD_S` and records how late it fires.  Its error is
at most one period, so a short period is what makes a 20 ms stall read as ~20 ms; a
timer callback costs a few microseconds.  Waking an idle loop for it costs more: a
system call round trip, about 0.1 ms on these VMs, so an idle app spends about 5 % of a
core on the timer; a busy loop reaches it between callbacks without sleeping.  Other
periodic readings run on the same tick (`on_tick`) rather than wake the loop again.
Nothing of asyncio or uvloop is patched: it is an ordinary `call_at` callback.

The watchdog thread wakes every `WATCHDOG_POLL_S`.  While the timer is overdue the loop
is inside a callback and serves nobody else; the watchdog then looks at the loop
thread: its stack (whose code holds the loop) and its CPU clock (was it running, or
waiting off the CPU: a sync database call in an `async def` route waits for the server
there).  Those samples add up to where the loop's held time went, for fast blocking
calls too, which a stall threshold alone never sees.  When the timer is late by
`STALL_MS`, the tick records a stall with the stack the watchdog captured, attributed
to the garbage collector when GC pauses cover most of it, to code when the loop thread
was running Python code, and to "other" when it was not (GIL or CPU taken by others).
Stalls and held time name the request the loop was serving (its route), found on the
loop thread's stack (`requests.request_on_stack`).

`start()` watches the loop it is called on; `follow()` moves an already started
monitor to the loop running now (a test client may serve each request on a new loop),
keeping its counts.  A loop that is not running holds nothing and is not sampled.
"""

import asyncio
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sessionbench.reading import HeldReading, StallCause, StallReading, StallTotals

from .gcwatch import GcWatch
from .histograms import percentile
from .locations import APP_FRAME_DEPTH, format_stack, innermost_app_frame
from .requests import OUTSIDE, request_on_stack
from .thread_clock import ThreadClock

PERIOD_S = 0.002
# Lateness from which a tick is recorded as a stall with its cause and stack: above the
# few milliseconds a busy but healthy loop takes to reach a timer.
STALL_MS = 15.0
# Lateness below this is scheduling noise and is left out of the total.
LAG_FLOOR_MS = 5.0
# The watchdog looks at a held loop every WATCHDOG_POLL_S, at a healthy one every
# WATCHDOG_HEALTHY_POLL_S: each look takes the GIL from the loop's thread, and at 5 ms
# those hand-offs alone cost a busy app about 6 % of its throughput (measured on the
# notes app, Postgres: probes-on/off 0.879 polling at 5 ms, 0.944 at 50 ms).
WATCHDOG_POLL_S = 0.005
WATCHDOG_HEALTHY_POLL_S = 0.025
WATCHDOG_THRESHOLD_S = 0.015
# The loop counts as held when its timer is overdue by more than this: a healthy loop
# reaches its timer between callbacks, well within that.
HELD_AFTER_S = 0.005
# A sample longer than this (the watchdog itself was descheduled) counts for this much:
# its cause is unknown beyond that.
MAX_SAMPLE_S = 4 * WATCHDOG_POLL_S
# A stall is the collector's when GC pauses cover at least this share of it.
GC_SHARE = 0.5
# Stall details kept for the harness to fetch (it polls twice a second, and at most one
# stall starts every STALL_MS); counters are never capped.
STALL_BUFFER = 2048
STACK_DEPTH = 80  # deep enough to reach the app's frames under ORM and driver code
MAX_HELD_FRAMES = 64  # distinct app frames (and routes) whose held time is itemised


@dataclass(frozen=True)
class _HeldSpan:
    counted_s: float
    seen_at: float
    cpu: tuple[float, float]  # the loop thread's clock when the span was seen
    in_gc: bool = False
    app_frame: str | None = None
    route: str | None = None


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
        return percentile(self.histogram, self.ticks, fraction)


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


def _add_totals(totals: StallTotals, stall: StallReading) -> None:
    cause = stall.cause
    totals.count[cause] = totals.count.get(cause, 0) + 1
    totals.total_ms[cause] = totals.total_ms.get(cause, 0.0) + stall.duration_ms
    totals.max_ms[cause] = max(totals.max_ms.get(cause, 0.0), stall.duration_ms)
    if stall.app_frame is not None:
        totals.app_count += 1
        totals.app_total_ms += stall.duration_ms
        totals.app_max_ms = max(totals.app_max_ms, stall.duration_ms)


class LoopMonitor:
    def __init__(self, gc_watch: GcWatch) -> None:
        self.gc_watch = gc_watch
        self.lag = LagStats()
        self.totals = StallTotals()
        self.held = HeldReading()
        self.stalls: deque[StallReading] = deque(maxlen=STALL_BUFFER)
        self.stall_count = 0
        self.started = time.perf_counter()
        self.last_tick = self.started
        self._due = self.started
        # (when, stack, index of its app frame, route being served)
        self._captures: deque[tuple[float, list[str], int | None, str | None]] = deque(maxlen=64)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._watchdog = threading.Thread(
            target=self._watch, name="sessionbench-watchdog", daemon=True
        )
        self._loop_thread_id = threading.get_ident()
        self._clock: ThreadClock | None = None
        # Called on the loop at every tick: readings that need no timer of their own.
        self.on_tick: list[Callable[[], None]] = []

    def start(self) -> None:
        self._watch_this_loop()
        self._watchdog.start()

    def follow(self) -> None:
        """Watch the loop running now instead, if it is another one."""
        if asyncio.get_running_loop() is self._loop:
            return
        # The old loop's pending tick finds itself stale and ends there.
        if self._clock is not None:
            self._clock.close()
        self._watch_this_loop()
        if not self._watchdog.is_alive() and not self._stop.is_set():
            self._watchdog.start()

    def _watch_this_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._clock = ThreadClock.of_current_thread()
        self.last_tick = time.perf_counter()
        self._arm(self.last_tick)

    def stop(self) -> None:
        """From any thread: a tick that still comes finds the monitor stopped."""
        self._stop.set()
        if self._handle is not None and self._loop_thread_id == threading.get_ident():
            self._handle.cancel()
        if self._watchdog.is_alive():
            self._watchdog.join(timeout=1)
        if self._clock is not None:
            self._clock.close()

    @property
    def watched_loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def stalls_since(self, seq: int) -> list[StallReading]:
        """Stall details numbered `seq` and later that are still in the buffer."""
        first = self.stall_count - len(self.stalls)
        return list(self.stalls)[max(0, seq - first) :]

    def _arm(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + PERIOD_S
        self._handle = self._loop.call_later(PERIOD_S, self._tick, self._loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._stop.is_set() or loop is not self._loop:
            return
        now = time.perf_counter()
        late_ms = max(0.0, (now - self._due) * 1000)
        self.lag.record(late_ms)
        if late_ms >= STALL_MS:
            self._record_stall(self.last_tick, now, late_ms)
        self.last_tick = now
        for reading in self.on_tick:
            reading()
        self._arm(now)

    def _record_stall(self, since: float, now: float, late_ms: float) -> None:
        in_gc = self.gc_watch.time_in_gc(since, now)
        # The watchdog's capture during this stall (it may land just after the loop resumed).
        stack, app_frame, route = next(
            ((s, a, r) for at, s, a, r in reversed(self._captures) if at >= since),
            ([], None, None),
        )
        cause: StallCause
        if in_gc >= GC_SHARE * (now - since):
            cause = "gc"
        elif _is_idle(stack):
            cause = "other"  # no Python code on the loop: GIL or CPU taken by other threads
        else:
            cause = "code"
        stall = StallReading(
            seq=self.stall_count,
            at_s=round(since - self.started, 4),
            duration_ms=round(late_ms, 3),
            cause=cause,
            stack=stack if cause == "code" else [],
            app_frame=app_frame if cause == "code" else None,
            route=route if cause == "code" else None,
        )
        self.stalls.append(stall)
        self.stall_count += 1
        _add_totals(self.totals, stall)

    def _watch(self) -> None:
        captured_for = 0.0
        previous = time.perf_counter()
        watching: ThreadClock | None = None
        # A held span seen at the last look, waiting for the thread clock's reading over
        # the next interval to tell whether the loop thread ran or waited meanwhile.
        # The clock is read only while the loop is held: a healthy loop costs one look.
        pending: _HeldSpan | None = None
        poll = WATCHDOG_HEALTHY_POLL_S
        while not self._stop.wait(poll):
            poll = WATCHDOG_HEALTHY_POLL_S
            loop, clock = self._loop, self._clock
            if loop is None or clock is None or not loop.is_running():
                watching, pending = None, None  # a stopped loop holds nothing: start afresh
                continue
            now = time.perf_counter()
            if clock is not watching:  # a new loop (thread) to watch
                watching, pending, previous = clock, None, now
                continue
            cpu = None
            if pending is not None:
                cpu = clock.read()
                self._settle(pending, now, cpu)
                pending = None
            held_since = self._due + HELD_AFTER_S
            if now > held_since:
                # Held from `held_since` at the latest (its timer has not run since it
                # was due), so a look that comes late does not count the healthy time
                # before it.
                counted = min(now - max(previous, held_since), MAX_SAMPLE_S)
                pending = self._held_span(counted, now, cpu if cpu is not None else clock.read())
                poll = WATCHDOG_POLL_S
            last = self.last_tick
            if last != captured_for and now - last > WATCHDOG_THRESHOLD_S:
                self._capture()
                captured_for = last
            previous = now

    def _capture(self) -> None:
        """The loop thread's stack as text.  Its frames are not kept past this call:
        a frame held by the watchdog would keep every object on that stack alive (a
        request's session, counted as leaked)."""
        frame = sys._current_frames().get(self._loop_thread_id)
        if frame is not None:
            stack, app_frame = format_stack(frame, STACK_DEPTH)
            mark = request_on_stack(frame, APP_FRAME_DEPTH)
            route = mark.route if mark is not None else None
            self._captures.append((time.perf_counter(), stack, app_frame, route))

    def _held_span(self, counted_s: float, now: float, cpu: tuple[float, float]) -> _HeldSpan:
        """`counted_s` of held loop time seen now: the collector's, or whose code."""
        if self.gc_watch.collecting:
            return _HeldSpan(counted_s, now, cpu, in_gc=True)
        frame = sys._current_frames().get(self._loop_thread_id)
        app = innermost_app_frame(frame, STACK_DEPTH)
        route = None
        if app is not None:
            mark = request_on_stack(frame, APP_FRAME_DEPTH)
            route = mark.route if mark is not None else OUTSIDE
        return _HeldSpan(counted_s, now, cpu, app_frame=app, route=route)

    def _settle(self, span: _HeldSpan, now: float, cpu: tuple[float, float]) -> None:
        """Add a held span to the totals, running or waiting as the loop thread's clock
        says it spent the time since the span was seen."""
        held, ms = self.held, span.counted_s * 1000
        held.sampled_ms += ms
        if span.in_gc:
            held.gc_ms += ms
            return
        elapsed_s = now - span.seen_at
        on_cpu, runnable = cpu[0] - span.cpu[0], cpu[1] - span.cpu[1]
        # Off the CPU and not waiting for it: blocked in a system call, a lock or the GIL.
        waiting = elapsed_s - on_cpu - runnable > elapsed_s / 2
        if span.app_frame is None:
            if waiting:
                held.other_waiting_ms += ms
            else:
                held.other_running_ms += ms
        elif waiting:
            held.app_waiting_ms += ms
            for key, spent in (
                (span.app_frame, held.app_waiting_frames),
                (span.route or OUTSIDE, held.app_waiting_routes),
            ):
                if key in spent or len(spent) < MAX_HELD_FRAMES:
                    spent[key] = spent.get(key, 0.0) + ms
        else:
            held.app_running_ms += ms
