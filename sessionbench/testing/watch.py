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

    def stop(self) -> tuple[ProbeReading, float]:
        """The final reading, after a full collection when something a request began is
        still alive (a full collection costs tens of ms; healthy requests leave nothing
        for it to decide); and the test's duration."""
        if self._original is not None:
            Starlette.__call__ = self._original  # type: ignore[method-assign,assignment]
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
