"""The Locust user for a user's app: a request mix (`mix.py`) from SESSIONBENCH_MIX.

Closed model, no think time, like the built-in targets' user; its ledger (`ledger.py`)
keeps the real load window and the requests left unanswered when load stopped.  A
request with listed `expect` statuses fails on any other; a generated one (no `expect`)
fails on 5xx, and its 4xx answers (an id that is not there, a value the app rejects) are
counted apart and written to SESSIONBENCH_CLIENT_ERRORS when the test stops: they say
the generator guessed wrong, not that the app failed.
"""

import json
import os
import random
import re
from collections import Counter
from typing import Any

from locust import FastHttpUser, constant, events

from sessionbench.scenarios.ledger import listen, tracked
from sessionbench.scenarios.ledger import write as write_ledger
from sessionbench.scenarios.mix import CLIENT_ERRORS_ENV, ENV_VAR, Mix, Operation

MIX = Mix.model_validate_json(os.environ[ENV_VAR])
RNG = random.Random()
client_errors: Counter[tuple[str, str, int]] = Counter()  # (method, name, status) -> count


def _detail(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except Exception:  # not a JSON object
        detail = None
    return re.sub(r"\d{5,}", "N", str(detail or response.text or ""))[:200]


def _send(user: FastHttpUser, op: Operation) -> None:
    path, query, body = op.render(RNG)
    kwargs: dict[str, Any] = {"params": query} if query else {}
    if body is not None:
        kwargs["json"] = body
    with (
        tracked(user, op.method, op.path),
        user.client.request(
            op.method, path, name=op.path, catch_response=True, **kwargs
        ) as response,
    ):
        status = response.status_code
        if op.expect is not None:
            if status not in op.expect:
                response.failure(f"HTTP {status} (expected {op.expect}): {_detail(response)}")
        elif 400 <= status < 500:
            client_errors[(op.method, op.path, status)] += 1
            response.success()
        elif status >= 500 or status == 0:
            response.failure(f"HTTP {status}: {_detail(response)}")


def _write_files(environment: Any, **_kwargs: Any) -> None:
    """This process's files: the client errors, then the ledger."""
    target = os.environ.get(CLIENT_ERRORS_ENV)
    if target:
        with open(target, "w") as handle:
            json.dump(
                [{"method": m, "name": n, "status": s, "occurrences": c}
                 for (m, n, s), c in client_errors.items()],
                handle,
            )  # fmt: skip
    write_ledger(environment)


listen()
events.test_stop.add_listener(_write_files)


def _task(op: Operation) -> Any:
    def run(user: FastHttpUser) -> None:
        _send(user, op)

    return run


class AppUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    # A task listed `weight` times is picked with that weight (Locust's own attribute).
    tasks = [_task(op) for op in MIX.operations for _ in range(op.weight)]  # noqa: RUF012
