"""Whether a connection's invalidation is a close() cut short by a cancellation.

When a request's task is cancelled (a client hung up and Starlette or the app cancelled
it) while its session closes, the close's ROLLBACK is cancelled too, and SQLAlchemy
invalidates the connection instead of returning it.  A cancellation that lands in a
query invalidates the connection as well, whatever the app does (the protocol is
mid-statement); only one that lands in close() is the app's to fix, so the frames of
the invalidation say which.
"""

import sys
from types import FrameType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

# Session.close()/reset() and Connection.close() both pass through these.
_CLOSING = frozenset({Session._close_impl.__code__, Connection.close.__code__})


def close_cancelled(exception: Any) -> bool:
    """The invalidation in progress was caused by a cancellation during a close."""
    # A cancellation (CancelledError) is a BaseException; database errors are Exceptions.
    if exception is None or isinstance(exception, Exception):
        return False
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code in _CLOSING:
            return True
        frame = frame.f_back
    return False
