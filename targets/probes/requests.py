"""The requests an app is serving: how many are in flight, and whether each one's
response has been sent.

A pure ASGI middleware (no BaseHTTPMiddleware: it must not change when the app's code
runs) counts requests in flight, so the harness can wait for them to finish before it
reads what is still held, and marks per request when the final body has been sent.
Context variables carry the mark into the threadpool too, since anyio copies the
context into worker threads.
"""

from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessionbench.reading import RequestReading

PROBE_PATH = "/_sessionbench/probe"

# [sent]: a one-item list, so code running later in the request sees the update.
response_sent: ContextVar[list[bool] | None] = ContextVar(
    "sessionbench_response_sent", default=None
)


class RequestCounter:
    def __init__(self) -> None:
        self.started = 0
        self.in_flight = 0

    def snapshot(self) -> RequestReading:
        return RequestReading(started=self.started, in_flight=self.in_flight)


class RequestTrackingMiddleware:
    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == PROBE_PATH:
            await self.app(scope, receive, send)
            return
        sent = [False]
        response_sent.set(sent)

        async def marking_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                sent[0] = True

        self.counter.started += 1
        self.counter.in_flight += 1
        try:
            await self.app(scope, receive, marking_send)
        finally:
            self.counter.in_flight -= 1
