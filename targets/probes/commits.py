"""Commits that complete after the response was sent (commit-after-`yield` with FastAPI's
default request scope).  Such a write is acknowledged before it is durable: a client
can read stale data, and a commit that then fails is a lost write nobody hears of.

A session's transaction that began before the response was sent belongs to the
request the client was answered for; if it commits after, the answer came first.  A
transaction begun after the response (a BackgroundTasks job with its own session) is
deliberate background work, counted apart.
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sessionbench.reading import CommitReading

from .locations import APP_FRAME_DEPTH, app_location_here
from .requests import current_request
from .sites import SiteTally

_BEGUN_BEFORE_RESPONSE = "sessionbench_begun_before_response"


class CommitTiming:
    def __init__(self) -> None:
        self.commits = 0
        self.after_response = 0
        self.background_after_response = 0
        self.after_response_at = SiteTally()

    def install(self) -> None:
        event.listen(Session, "after_begin", self._on_begin)
        event.listen(Session, "after_commit", self._on_commit)

    def uninstall(self) -> None:
        for name, fn in (("after_begin", self._on_begin), ("after_commit", self._on_commit)):
            if event.contains(Session, name, fn):
                event.remove(Session, name, fn)

    def _on_begin(self, session: Session, _transaction: Any, _connection: Any) -> None:
        mark = current_request.get()
        session.info[_BEGUN_BEFORE_RESPONSE] = mark is not None and not mark.sent

    def _on_commit(self, session: Session) -> None:
        self.commits += 1
        mark = current_request.get()
        if mark is None or not mark.sent:
            return
        if session.info.get(_BEGUN_BEFORE_RESPONSE, True):
            self.after_response += 1
            self.after_response_at.add((mark.route, app_location_here(APP_FRAME_DEPTH)))
        else:
            self.background_after_response += 1

    def snapshot(self) -> CommitReading:
        return CommitReading(
            commits=self.commits,
            commits_after_response=self.after_response,
            background_commits_after_response=self.background_after_response,
            after_response_at=self.after_response_at.snapshot(),
        )
