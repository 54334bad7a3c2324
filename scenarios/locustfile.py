"""The Locust user that drives a target; run only by the harness, in its own process.

The scenario (route weights, `/slow` delay) arrives as JSON in SESSIONBENCH_SCENARIO.
Users run back to back with no think time (closed model), so requests/s is what the
target sustains at that concurrency.  GET /fail answers 500 by design: that counts as
a success here, any other answer is a failure.
"""

import json
import os
import random
import re
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, LoadTestShape, constant, events

SCENARIO = json.loads(os.environ.get("SESSIONBENCH_SCENARIO", '{"tasks": {"health": 1}}'))
SLOW_MS = int(SCENARIO.get("slow_ms", 0))
SEED_ROWS = 200
# Ids the target acknowledged for POST /items, written out at the end so the harness can
# look for each one in the table (a write acknowledged but missing is a lost write).
ACK_FILE = os.environ.get("SESSIONBENCH_ACK_FILE")
acknowledged: list[int] = []


def _request(user: FastHttpUser, method: str, path: str, **kwargs: Any) -> Any:
    """One request; a failed answer is counted by the cause the target gives in its body."""
    with user.client.request(method, path, catch_response=True, **kwargs) as response:
        if response.status_code >= 400:
            response.failure(f"HTTP {response.status_code}: {_detail(response)}")
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


def _save_acknowledged(**_kwargs: Any) -> None:
    if ACK_FILE:
        with open(ACK_FILE, "w") as handle:
            json.dump(acknowledged, handle)


events.test_stop.add_listener(_save_acknowledged)

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


def _fail(user: FastHttpUser) -> None:
    with user.client.get("/fail", catch_response=True) as response:
        if response.status_code == 500:
            response.success()
        else:
            response.failure(f"expected 500 from /fail, got {response.status_code}")


def _health(user: FastHttpUser) -> None:
    # No body to read on failure, and the cheapest request Locust can make: this route
    # also measures the load generator itself (`sessionbench calibrate driver`).
    user.client.get("/health")


ROUTE_TASKS: dict[str, Callable[[FastHttpUser], None]] = {
    "read": _read,
    "list": _list,
    "write": _write,
    "transfer": _transfer,
    "slow": _slow,
    "fail": _fail,
    "health": _health,
}


class SessionbenchUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    # A task listed `weight` times is picked with that weight (Locust's own attribute).
    tasks = [  # noqa: RUF012
        ROUTE_TASKS[route] for route, weight in SCENARIO["tasks"].items() for _ in range(weight)
    ]


if SCENARIO.get("burst_users"):

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
