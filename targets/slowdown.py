"""An injected slowdown: extra CPU time per request, to calibrate the regression gate.

The delay spins on the event loop instead of sleeping: it stands for code that got
slower, which costs the worker CPU that no other request can use meanwhile.  The
probe route is left alone so the harness's readings are not slowed.
"""

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response


def _spin(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def add_delay(app: FastAPI, delay_ms: float) -> None:
    """Spend `delay_ms` of CPU after every request; nothing is installed at 0."""
    if delay_ms <= 0:
        return

    @app.middleware("http")
    async def added_delay(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/_sessionbench"):
            _spin(delay_ms / 1000)
        return response
