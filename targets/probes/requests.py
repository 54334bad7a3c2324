"""The requests an app is serving: how many are in flight, which route each one is, and
whether its response has been sent.

A pure ASGI middleware (no BaseHTTPMiddleware: it must not change when the app's code
runs) counts requests in flight, so the harness can wait for them to finish before it
reads what is still held, and keeps a `RequestMark` per request: its scope (the router
adds the matched route to it), whether the final body has been sent, the sessions it
began.  A context variable carries the mark into SQLAlchemy's event handlers, in the
threadpool too (anyio copies the context into worker threads) and in AsyncSession's
greenlets (SQLAlchemy gives them the task's context).

The watchdog thread cannot read the loop thread's context variables; it finds the
request the loop is serving by walking the loop thread's frames to this middleware's
`__call__` and looking its frame up in `_serving`.  Reading that frame's locals from
another thread instead would make CPython build a locals dict of a running frame
(3.11, 3.12): a write into the loop thread's frame, which the lookup by id avoids.
"""

import sys
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessionbench.reading import RequestReading

PROBE_PATH = "/_sessionbench/probe"
OUTSIDE = ""  # the route key of work done outside any request (start-up, tests, threads)


def route_of(scope: Scope) -> str:
    """ "GET /items/{id}": the method and the template of the route that matched."""
    route = scope.get("route")
    template = getattr(route, "path", None) or getattr(route, "path_format", None)
    return f"{scope.get('method', '')} {template or scope.get('path', '') + ' (no route)'}"


@dataclass(eq=False, slots=True, weakref_slot=True)  # one per request: kept small
class RequestMark:
    scope: Scope
    sent: bool = False  # the final body has gone to the client
    # Sessions whose transaction began in this request, checked when it ends.
    sessions: list[weakref.ref[Any]] = field(default_factory=list)

    # `route` as last formatted, and the matched route object it was formatted for (a
    # mounted app's router replaces its mount's).
    _route: tuple[object, str] | None = None

    @property
    def route(self) -> str:
        matched = self.scope.get("route")
        if self._route is None or self._route[0] is not matched:
            self._route = (matched, route_of(self.scope))
        return self._route[1]


current_request: ContextVar[RequestMark | None] = ContextVar("sessionbench_request", default=None)
# id of a running middleware frame -> its request (removed before the frame ends).
_serving: dict[int, RequestMark] = {}


def current_route() -> str | None:
    mark = current_request.get()
    return mark.route if mark is not None else None


class RequestCounter:
    def __init__(self) -> None:
        self.started = 0
        self.in_flight = 0

    def snapshot(self) -> RequestReading:
        return RequestReading(started=self.started, in_flight=self.in_flight)


class RequestTrackingMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        counter: RequestCounter,
        on_end: Callable[[RequestMark], None] | None = None,
    ) -> None:
        self.app = app
        self.counter = counter
        self.on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == PROBE_PATH:
            await self.app(scope, receive, send)
            return
        mark = RequestMark(scope)
        # Reset when done: a test client may run the app in its caller's own task.
        token = current_request.set(mark)
        frame = id(sys._getframe())
        _serving[frame] = mark

        async def marking_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                mark.sent = True

        self.counter.started += 1
        self.counter.in_flight += 1
        try:
            await self.app(scope, receive, marking_send)
        finally:
            del _serving[frame]
            current_request.reset(token)
            if self.on_end is not None:
                self.on_end(mark)
            self.counter.in_flight -= 1  # last: a reader waiting for 0 sees it all done


_MIDDLEWARE_CODE = RequestTrackingMiddleware.__call__.__code__


def request_on_stack(frame: FrameType | None, depth: int) -> RequestMark | None:
    """The request whose middleware frame is on this stack (innermost first), if any."""
    for _ in range(depth):
        if frame is None:
            return None
        if frame.f_code is _MIDDLEWARE_CODE:
            return _serving.get(id(frame))
        frame = frame.f_back
    return None
