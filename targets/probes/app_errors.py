"""Exceptions that escape an app, counted by kind and by the app's line that raised them.

A user's app answers an unhandled exception with a bare "Internal Server Error", so the
load generator cannot say why requests failed.  This pure ASGI wrapper sits outside the
app: Starlette re-raises every unhandled exception after sending the 500, so each one
passes here once, with its traceback.  It lives beside the probes so that its frame is
never taken for the app's own code.
"""

import re
from collections import Counter
from types import TracebackType

from starlette.types import ASGIApp, Receive, Scope, Send

from .locations import frame_location, is_app_file


def error_text(exc: BaseException) -> str:
    """`Type: first line`, without long numbers (ids, ports), so one cause is one kind."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return re.sub(r"\d{5,}", "N", text)[:200]


def raising_app_line(tb: TracebackType | None) -> str:
    """The innermost frame of the app's code in the traceback."""
    found = "(no app frame)"
    while tb is not None:
        if is_app_file(tb.tb_frame.f_code.co_filename):
            found = frame_location(tb.tb_frame)
            # frame_location reads f_lineno, the frame's current line: use the tb's.
            found = found.replace(f":{tb.tb_frame.f_lineno} ", f":{tb.tb_lineno} ", 1)
        tb = tb.tb_next
    return found


class ErrorLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()  # (error, app line) -> count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.counts[(error_text(exc), raising_app_line(exc.__traceback__))] += 1
            raise
