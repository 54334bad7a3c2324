"""The Locust user that drives a target; run only by the harness, in its own process.

The scenario (route weights, `/slow` delay) arrives as JSON in SESSIONBENCH_SCENARIO.
Users run back to back with no think time (closed model), so requests/s is what the
target sustains at that concurrency.  GET /fail answers 500 by design: that counts as
a success here, any other answer is a failure.
"""

import json
import os
import random
from collections.abc import Callable

from locust import FastHttpUser, constant

SCENARIO = json.loads(os.environ.get("SESSIONBENCH_SCENARIO", '{"tasks": {"health": 1}}'))
SLOW_MS = int(SCENARIO.get("slow_ms", 0))
SEED_ROWS = 200


def _read(user: FastHttpUser) -> None:
    user.client.get(f"/items/{random.randint(1, SEED_ROWS)}", name="/items/{id}")


def _list(user: FastHttpUser) -> None:
    user.client.get("/items?limit=20", name="/items")


def _write(user: FastHttpUser) -> None:
    user.client.post("/items", json={"name": "written", "value": random.randint(0, 100)})


def _transfer(user: FastHttpUser) -> None:
    source, target = random.sample(range(1, SEED_ROWS + 1), 2)
    user.client.post("/transfer", json={"source": source, "target": target, "amount": 1})


def _slow(user: FastHttpUser) -> None:
    user.client.get(f"/slow?ms={SLOW_MS}", name="/slow")


def _fail(user: FastHttpUser) -> None:
    with user.client.get("/fail", catch_response=True) as response:
        if response.status_code == 500:
            response.success()
        else:
            response.failure(f"expected 500 from /fail, got {response.status_code}")


def _health(user: FastHttpUser) -> None:
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
