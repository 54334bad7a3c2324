"""Watching one test: the probes `run` uses, attached to whatever app the test serves.

The test's app is not known in advance (a module-level app, one built in a fixture),
so while a watched test runs, `Starlette.__call__` goes through the probes' request
middleware: every FastAPI or Starlette app called during the test is measured, with
the same per-request attribution as under uvicorn.  The event-loop monitor follows
the loop that serves each call: Starlette's `TestClient` runs the app in a portal
thread with its own loop (one per request without `with`), httpx's `ASGITransport`
on the test's own loop.  SQLAlchemy's class-level listeners see every engine and
session, whether created at import, in a lifespan, in a fixture or per request.
"""

import asyncio
import gc
import time
import warnings
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from starlette.applications import Starlette

from sessionbench.reading import ProbeReading
from sessionbench.targets.probes import Probes
from sessionbench.targets.probes.requests import current_request

# Requests still running when the test ends get this long to finish (a dependency's
# teardown takes milliseconds); what still runs after is counted as in flight.
QUIESCE_S = 1.0
QUIESCE_POLL_S = 0.001
# Passes through the app's loop after its requests: a callback scheduled by another
# (a task's done callback, then what it wakes) runs in the next pass.
DRAIN_ROUNDS = 3


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


AsgiCall = Callable[[Any, Any, Any, Any], Awaitable[None]]


class TestWatch:
    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self) -> None:
        self.probes = Probes()
        self.started = time.perf_counter()
        self._original: AsgiCall | None = None

    def start(self) -> None:
        self.started = time.perf_counter()
        self.probes.listen()
        original: AsgiCall = Starlette.__call__
        probes = self.probes

        async def watched(app: Starlette, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] not in ("http", "lifespan") or current_request.get() is not None:
                await original(app, scope, receive, send)  # a mounted app: already watched
                return
            probes.loop.follow()
            await probes.middleware(partial(original, app))(scope, receive, send)

        self._original = original
        Starlette.__call__ = watched  # type: ignore[method-assign,assignment]

    def _drain_app_loop(self) -> None:
        """Let a loop still running in another thread (TestClient's portal) run what
        it has ready: a finished request's last callbacks (AsyncSession closes in a
        task of its own) still hold its session until they run."""
        loop = self.probes.loop.watched_loop
        if loop is None or not loop.is_running() or loop is _running_loop():
            return
        for _ in range(DRAIN_ROUNDS):
            try:
                asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(QUIESCE_S)
            except (TimeoutError, RuntimeError):  # the loop stopped or is held
                return

    def stop(self) -> tuple[ProbeReading, float]:
        """The final reading, after a full collection when something a request began is
        still alive (a full collection costs tens of ms; healthy requests leave nothing
        for it to decide); and the test's duration."""
        if self._original is not None:
            Starlette.__call__ = self._original  # type: ignore[method-assign,assignment]
        # A TestClient returns with the response; the app's loop may still be closing
        # the request's dependencies (FastAPI's default scope runs them after it).
        deadline = time.perf_counter() + QUIESCE_S
        while self.probes.requests.in_flight and time.perf_counter() < deadline:
            time.sleep(QUIESCE_POLL_S)
        self._drain_app_loop()
        # The watchdog may hold a frame of the loop thread while it samples it: stopped
        # first, it keeps nothing of a request alive through the collection.
        self.probes.loop.stop()
        if self.probes.database.request_leftovers():
            # A driver warns when its connection is collected unclosed; the leak is this
            # test's finding, and the warning must not fail whichever test runs next.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                gc.collect()
        reading = self.probes.snapshot(final=False)
        reading.final = True
        self.probes.stop()
        return reading, time.perf_counter() - self.started
