"""Injected failures: a share of requests answered 503, to calibrate the regression gate.

Every request whose running count crosses the next multiple of 1/rate fails, so the
error rate is exact and the same in every run (a random draw would add its own noise
to what the calibration measures).  A pure ASGI middleware, like the slowdown; the
health and probe routes are left alone so the harness still sees the target.
"""

import json

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

SPARED = ("/health", "/_sessionbench")
BODY = json.dumps({"detail": "injected error"}).encode()


class AddedErrors:
    def __init__(self, app: ASGIApp, rate: float) -> None:
        self.app = app
        self.rate = rate
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SPARED):
            await self.app(scope, receive, send)
            return
        before, self.requests = self.requests, self.requests + 1
        if int(self.requests * self.rate) == int(before * self.rate):
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})


def add_errors(app: FastAPI, rate: float) -> None:
    """Fail `rate` of the requests (0.02: one in fifty); nothing is installed at 0."""
    if rate > 0:
        app.add_middleware(AddedErrors, rate=rate)
