"""Commits that complete after the response was sent (commit-after-`yield` with FastAPI's
default request scope).  Such a write is acknowledged before it is durable: a client
can read stale data, and a commit that then fails is a lost write nobody hears of.

An ASGI middleware marks, per request, when the final body has been sent; a session
`after_commit` listener checks that mark.  Context variables carry the mark into the
threadpool too, since anyio copies the context into worker threads.
"""

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_response_sent: ContextVar[list[bool] | None] = ContextVar(
    "sessionbench_response_sent", default=None
)


class CommitTiming:
    def __init__(self) -> None:
        self.commits = 0
        self.after_response = 0

    def install(self) -> None:
        event.listen(Session, "after_commit", self._on_commit)

    def uninstall(self) -> None:
        if event.contains(Session, "after_commit", self._on_commit):
            event.remove(Session, "after_commit", self._on_commit)

    def _on_commit(self, _session: Any) -> None:
        self.commits += 1
        sent = _response_sent.get()
        if sent is not None and sent[0]:
            self.after_response += 1

    def snapshot(self) -> dict[str, int]:
        return {"commits": self.commits, "commits_after_response": self.after_response}


class ResponseSentMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not change when the app's code runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = [False]
        _response_sent.set(sent)

        async def marking_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                sent[0] = True

        await self.app(scope, receive, marking_send)
