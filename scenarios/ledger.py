"""What Locust's own stats cannot hold, kept by each of sessionbench's locustfiles and
written to SESSIONBENCH_LOAD_FILE when the test stops: the real load window, requests
killed unanswered when load stopped, requests the client abandoned on purpose (the
`abort` fault), the open model's schedule figures, and a timeline of answers
(successes per time bin, each failure with its start, end and cause) from which a
fault's recovery is measured.

`listen()` registers the window and timeline listeners; a locustfile wraps each request
in `tracked(...)` and calls `write(...)` at test_stop, after its own files.
"""

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gevent import GreenletExit
from gevent.event import Event
from locust import FastHttpUser, events

LEDGER_FILE = os.environ.get("SESSIONBENCH_LOAD_FILE")
# The timeline's resolution: a quarter second resolves a recovery of a second or two
# while keeping tens of answers per bin at the load of the fault scenarios.
BIN_S = 0.25
# A failure storm (a server down for the whole run) must not grow the ledger unbounded.
FAILURES_KEPT = 20_000
# Where the window's start (perf_counter, the system's monotonic clock) is written as
# soon as load starts, so the harness can time a fault against it.
WINDOW_START_FILE = os.environ.get("SESSIONBENCH_WINDOW_START_FILE")


@dataclass
class Ledger:
    """This process's figures; written once, at test_stop (perf_counter clock)."""

    window_start: float | None = None
    window_stop: float | None = None
    unfinished: list[dict[str, Any]] = field(default_factory=list)  # method, name, elapsed_ms
    # open model
    arrivals_due: int = 0
    started: int = 0
    lateness_ms: dict[int, int] = field(default_factory=dict)  # every started arrival
    dropped_waited_ms: list[float] = field(default_factory=list)  # lower bounds of latency
    corrected_ms: dict[str, dict[int, int]] = field(default_factory=dict)  # "METHOD name"
    aborted: dict[str, int] = field(default_factory=dict)  # "METHOD name" -> abandoned
    # timeline, seconds since window_start
    ok_per_bin: dict[int, int] = field(default_factory=dict)  # by answer time
    failed: list[tuple[float, float, str]] = field(default_factory=list)  # start, end, cause

    def to_json(self, stop_grace_s: float, open_model: dict[str, Any] | None) -> dict[str, Any]:
        """`open_model`: the open model's settings, None for the closed model."""
        start, stop = self.window_start or 0.0, self.window_stop or self.window_start or 0.0
        return {
            "window_s": max(stop - start, 0.0),
            "stop_grace_s": stop_grace_s,  # how long requests could finish after stop
            "unfinished": self.unfinished,
            "aborted": self.aborted,
            "open": {
                **open_model,
                "arrivals_due": self.arrivals_due,
                "started": self.started,
                "lateness_ms": self.lateness_ms,
                "dropped_waited_ms": self.dropped_waited_ms,
                "corrected_ms": self.corrected_ms,
            }
            if open_model is not None
            else None,
            "timeline": {
                "window_start_clock": start,
                "bin_s": BIN_S,
                "ok_per_bin": self.ok_per_bin,
                "failed": self.failed,
            },
        }


ledger = Ledger()
stopping = Event()


def count(histogram: dict[int, int], ms: float) -> None:
    key = round(ms)
    histogram[key] = histogram.get(key, 0) + 1


def _window_opens(**_kwargs: Any) -> None:
    if ledger.window_start is None:  # a load shape restarts the runner at each step
        ledger.window_start = time.perf_counter()
        if WINDOW_START_FILE:
            with open(WINDOW_START_FILE, "w") as handle:
                json.dump(ledger.window_start, handle)


def _answered(response_time: float, exception: Any = None, **_kwargs: Any) -> None:
    """Every answer on the timeline: a success in its bin, a failure with its cause."""
    if ledger.window_start is None:
        return
    end = time.perf_counter() - ledger.window_start
    if exception is None:
        key = int(end // BIN_S)
        ledger.ok_per_bin[key] = ledger.ok_per_bin.get(key, 0) + 1
    elif len(ledger.failed) < FAILURES_KEPT:
        start = end - (response_time or 0.0) / 1000
        ledger.failed.append((round(start, 4), round(end, 4), str(exception)[:300]))


def _window_closes(**_kwargs: Any) -> None:
    ledger.window_stop = time.perf_counter()
    stopping.set()


def listen() -> None:
    events.test_start.add_listener(_window_opens)
    events.test_stopping.add_listener(_window_closes)
    events.request.add_listener(_answered)


def write(environment: Any, open_model: dict[str, Any] | None = None) -> None:
    """The one place this process's figures leave it (one file per load process)."""
    if LEDGER_FILE:
        with open(LEDGER_FILE, "w") as handle:
            json.dump(ledger.to_json(float(environment.stop_timeout or 0), open_model), handle)


@contextmanager
def tracked(user: FastHttpUser, method: str, name: str) -> Iterator[None]:
    """Count a request killed unanswered at stop, and (open model) its corrected latency."""
    intended: float | None = getattr(user, "intended", None)
    since = time.perf_counter() if intended is None else intended
    try:
        yield
    except GreenletExit:
        # Locust kills a user still waiting after the stop grace (at stop, or when a
        # burst ends): the request never reaches Locust's stats, so it is recorded
        # here, its latency a lower bound.
        elapsed_ms = (time.perf_counter() - since) * 1000
        ledger.unfinished.append({"method": method, "name": name, "elapsed_ms": elapsed_ms})
        raise
    if intended is not None:
        count(
            ledger.corrected_ms.setdefault(f"{method} {name}", {}),
            (time.perf_counter() - since) * 1000,
        )
