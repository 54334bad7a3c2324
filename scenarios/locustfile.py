"""The Locust user that drives a target; run only by the harness, in its own process.

The scenario (route weights, `/slow` delay) arrives as JSON in SESSIONBENCH_SCENARIO.
Closed model (default): users run back to back with no think time, so requests/s is
what the target sustains at that concurrency.  Open model (SESSIONBENCH_RATE, a list
of arrivals/s, one per equal step of the run): a pool of users takes arrival tickets
from one shared schedule and sleeps until each ticket's intended time; latency counts
from that intended time, so a target that falls behind is not excused by the
generator waiting for it (coordinated omission).  GET /fail answers 500 by design:
that counts as a success here, any other answer is a failure.

What Locust's own stats cannot hold goes to the ledger (`ledger.py`), with the open
model's schedule figures and the requests abandoned on purpose (the `abort` fault).
"""

import json
import math
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import Timeout
from locust import FastHttpUser, LoadTestShape, constant, events, task

from sessionbench.scenarios.ledger import count, ledger, listen, stopping, tracked
from sessionbench.scenarios.ledger import write as write_ledger

SCENARIO = json.loads(os.environ.get("SESSIONBENCH_SCENARIO", '{"tasks": {"health": 1}}'))
SLOW_MS = int(SCENARIO.get("slow_ms", 0))
STALL_MS = int(SCENARIO.get("stall_ms", 0))
# The client-disconnect fault: {"share": fraction of requests, "after_ms": ...} or None.
ABORT: dict[str, Any] | None = SCENARIO.get("abort")
SEED_ROWS = 200
# Ids the target acknowledged for POST /items, written out at the end so the harness can
# look for each one in the table (a write acknowledged but missing is a lost write).
ACK_FILE = os.environ.get("SESSIONBENCH_ACK_FILE")
# Arrivals per second, one value per equal step of the run; empty: closed model.
RATE_STEPS: list[float] = [float(r) for r in json.loads(os.environ.get("SESSIONBENCH_RATE", "[]"))]
RUN_TIME_S = float(os.environ.get("SESSIONBENCH_RUN_TIME_S", "0"))
# An arrival started this much after its intended time is late: below it is the
# generator's own scheduling jitter on a busy machine.
LATE_AFTER_MS = 10.0
# An arrival no user was free to start within this time of its intended start is
# dropped (never sent): the pool was exhausted that long.  As a client that gives up,
# it keeps one stall from turning every later arrival into a backlog burst.
DROP_AFTER_S = 1.0
acknowledged: list[int] = []
FAULT: dict[str, Any] = SCENARIO.get("fault") or {}


def _write_files(environment: Any, **_kwargs: Any) -> None:
    """This process's files: the acknowledged ids, then the ledger."""
    if schedule is not None:
        schedule.close(ledger.window_stop or time.perf_counter())
    if ACK_FILE:
        with open(ACK_FILE, "w") as handle:
            json.dump(acknowledged, handle)
    open_model = (
        {"rate_steps": RATE_STEPS, "late_after_ms": LATE_AFTER_MS, "drop_after_s": DROP_AFTER_S}
        if RATE_STEPS
        else None
    )
    write_ledger(environment, open_model)


listen()
events.test_stop.add_listener(_write_files)


class _Abandoned(Exception):
    """Raised inside Locust's response block so that it reports nothing for the request."""


def _abort_timer() -> Timeout | None:
    """For the fault's share of requests, a started timer that interrupts it after_ms."""
    if ABORT is None or random.random() >= ABORT["share"]:
        return None
    timer = Timeout(ABORT["after_ms"] / 1000)
    timer.start()
    return timer


def _request(
    user: FastHttpUser, method: str, path: str, name: str | None = None, **kwargs: Any
) -> Any:
    """One request; a failed answer is counted by the cause the target gives in its body.

    An abandoned request (the abort fault) is counted in the ledger, not in Locust's
    stats: the timer interrupts the read, geventhttpclient drops that connection, and
    the server sees its client hang up."""
    response = None
    timer = _abort_timer()
    try:
        with (
            tracked(user, method, name or path),
            user.client.request(method, path, name=name, catch_response=True, **kwargs) as response,
        ):
            # Fired: the read was interrupted (Locust may wrap it, as RetriesExceeded).
            if timer is not None and not timer.pending:
                raise _Abandoned
            if response.status_code >= 400:
                response.failure(f"HTTP {response.status_code}: {_detail(response)}")
    except (_Abandoned, Timeout) as exc:
        if exc is not timer and not isinstance(exc, _Abandoned):
            raise
        key = f"{method} {name or path}"
        ledger.aborted[key] = ledger.aborted.get(key, 0) + 1
    finally:
        if timer is not None:
            timer.close()
    return response


def _detail(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except Exception:  # not JSON: an error page from something other than the app
        detail = None
    # Without long numbers (thread ids, ports), one cause stays one kind of failure.
    return re.sub(r"\d{5,}", "N", str(detail or response.text or ""))[:200]


def _read(user: FastHttpUser) -> None:
    _request(user, "GET", f"/items/{random.randint(1, SEED_ROWS)}", name="/items/{id}")


def _list(user: FastHttpUser) -> None:
    _request(user, "GET", "/items?limit=20", name="/items")


def _write(user: FastHttpUser) -> None:
    body = {"name": "written", "value": random.randint(0, 100)}
    response = _request(user, "POST", "/items", json=body)
    if response.status_code == 200:
        acknowledged.append(int(response.json()["id"]))


# A Locust worker (`run --workers N`) counts the requests it sent, so the harness can
# check that the master's merged statistics hold every worker's.
REQUEST_COUNT_FILE = os.environ.get("SESSIONBENCH_REQUEST_COUNT_FILE")
requests_sent = 0


def _count_request(**_kwargs: Any) -> None:
    global requests_sent
    requests_sent += 1


def _save_request_count(**_kwargs: Any) -> None:
    if REQUEST_COUNT_FILE:
        with open(REQUEST_COUNT_FILE, "w") as handle:
            json.dump(requests_sent, handle)


if REQUEST_COUNT_FILE:
    events.request.add_listener(_count_request)
    events.test_stop.add_listener(_save_request_count)


def _transfer(user: FastHttpUser) -> None:
    source, target = random.sample(range(1, SEED_ROWS + 1), 2)
    _request(user, "POST", "/transfer", json={"source": source, "target": target, "amount": 1})


def _slow(user: FastHttpUser) -> None:
    _request(user, "GET", f"/slow?ms={SLOW_MS}", name="/slow")


def _stall(user: FastHttpUser) -> None:
    _request(user, "GET", f"/stall?ms={STALL_MS}", name="/stall")


def _export(user: FastHttpUser) -> None:
    _request(user, "GET", f"/export?ms={SLOW_MS}", name="/export")


def _fail(user: FastHttpUser) -> None:
    with (
        tracked(user, "GET", "/fail"),
        user.client.get("/fail", catch_response=True) as response,
    ):
        if response.status_code == 500:
            response.success()
        else:
            response.failure(f"expected 500 from /fail, got {response.status_code}")


def _health(user: FastHttpUser) -> None:
    # No body to read on failure, and the cheapest request Locust can make: this route
    # also measures the load generator itself (`sessionbench calibrate driver`).
    with tracked(user, "GET", "/health"):
        user.client.get("/health")


ROUTE_TASKS: dict[str, Callable[[FastHttpUser], None]] = {
    "read": _read,
    "list": _list,
    "write": _write,
    "transfer": _transfer,
    "slow": _slow,
    "stall": _stall,
    "export": _export,
    "fail": _fail,
    "health": _health,
}


# A task listed `weight` times is picked with that weight (Locust's `tasks` takes a
# list of callables or task sets).
def _pause_if_due() -> None:
    """A fault's pause (idle-timeout): from `at` of the run, no user sends anything for
    `pause_s`, so the target's pooled connections sit idle."""
    start, pause_s = ledger.window_start, float(FAULT.get("pause_s", 0.0))
    if start is None or not pause_s:
        return
    begin = start + float(FAULT["at"]) * RUN_TIME_S
    now = time.perf_counter()
    if begin <= now < begin + pause_s:
        gevent.sleep(begin + pause_s - now)


def _paused(route_task: Callable[[FastHttpUser], None]) -> Callable[[FastHttpUser], None]:
    def paused_task(user: FastHttpUser) -> None:
        _pause_if_due()
        route_task(user)

    return paused_task


WEIGHTED_TASKS: list[Any] = [
    _paused(ROUTE_TASKS[route]) if FAULT.get("pause_s") else ROUTE_TASKS[route]
    for route, weight in SCENARIO["tasks"].items()
    for _ in range(weight)
]


class Schedule:
    """Arrival tickets for the open model: intended start times, offsets from the window start."""

    def __init__(self, steps: list[float], run_time_s: float) -> None:
        step_s = run_time_s / len(steps)
        self.offsets = [
            index * step_s + k / rate
            for index, rate in enumerate(steps)
            for k in range(math.ceil(rate * step_s))
            if k / rate < step_s
        ]
        self.next = 0  # gevent runs one greenlet at a time: no lock needed

    def take(self) -> float | None:
        """The next ticket's intended time (perf_counter clock), or None when none is left.

        Tickets already more than DROP_AFTER_S late are dropped on the way."""
        if stopping.is_set():  # what is left is counted at close()
            return None
        start = ledger.window_start or time.perf_counter()
        while self.next < len(self.offsets):
            intended = start + self.offsets[self.next]
            self.next += 1
            waited = time.perf_counter() - intended
            if waited <= DROP_AFTER_S:
                return intended
            ledger.dropped_waited_ms.append(waited * 1000)
        return None

    def close(self, stop: float) -> None:
        """At stop: tickets due before it that no user started are dropped too."""
        start = ledger.window_start or stop
        due = [offset for offset in self.offsets if start + offset < stop]
        ledger.arrivals_due = len(due)
        for offset in due[self.next :]:
            ledger.dropped_waited_ms.append((stop - start - offset) * 1000)
        self.next = len(self.offsets)


schedule = Schedule(RATE_STEPS, RUN_TIME_S) if RATE_STEPS else None

if schedule is None:

    class SessionbenchUser(FastHttpUser):
        wait_time = constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0
        tasks = WEIGHTED_TASKS

else:

    class ArrivalUser(FastHttpUser):
        """One of the pool: takes the next arrival ticket, waits for its time, sends it."""

        wait_time = constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0
        intended: float | None = None

        @task
        def arrive(self) -> None:
            assert schedule is not None
            intended = schedule.take()
            if intended is None:
                stopping.wait()  # the schedule is spent: idle until load stops
                return
            # Stop may come first: a ticket not yet due when load stops is not an arrival.
            if stopping.wait(max(intended - time.perf_counter(), 0.0)):
                return
            ledger.started += 1
            count(ledger.lateness_ms, (time.perf_counter() - intended) * 1000)
            self.intended = intended
            try:
                random.choice(WEIGHTED_TASKS)(self)
            finally:
                self.intended = None


if SCENARIO.get("burst_users") and schedule is None:

    class Burst(LoadTestShape):
        """`--users` users, `burst_users` during the burst window, then back (recovery).
        Reads --users and --run-time from the command line (use_common_options)."""

        use_common_options = True

        def tick(self) -> tuple[int, float] | None:
            runner: Any = self.runner  # set by Locust before the first tick
            options = runner.environment.parsed_options
            run_time, elapsed = float(options.run_time), float(self.get_run_time())
            if elapsed >= run_time:
                return None
            start = SCENARIO["burst_start"] * run_time
            in_burst = start <= elapsed < start + SCENARIO["burst_length"] * run_time
            users = SCENARIO["burst_users"] if in_burst else options.num_users
            return users, float(max(users, 1) * 10)  # reach the new count within 0.1 s
