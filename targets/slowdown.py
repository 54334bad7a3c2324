"""An injected slowdown: extra CPU time per request, to calibrate the regression gate.

The delay spins on the event loop instead of sleeping: it stands for code that got
slower, which costs the worker CPU that no other request can use meanwhile.  A pure
ASGI middleware (Starlette's BaseHTTPMiddleware would itself slow every request), and
the probe route is left alone so the harness's readings are not slowed.
"""

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


def _spin(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


class AddedDelay:
    def __init__(self, app: ASGIApp, delay_ms: float) -> None:
        self.app = app
        self.delay_s = delay_ms / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and not scope["path"].startswith("/_sessionbench"):
            _spin(self.delay_s)


def add_delay(app: FastAPI, delay_ms: float) -> None:
    """Spend `delay_ms` of CPU after every request; nothing is installed at 0."""
    if delay_ms > 0:
        app.add_middleware(AddedDelay, delay_ms=delay_ms)
