"""Sync driver calls on a thread that runs an event loop.

A sync driver (psycopg, PyMySQL, sqlite3) waits for the server inside C code or a
socket read, with the loop stuck in the calling callback: every other request on the
worker waits for that round trip, however short it is.  Patching blocking functions
cannot see such a wait; SQLAlchemy's class-level cursor events can, for every engine:
a cursor execute on a sync dialect while an event loop is running in the same thread
is one.  Async dialects (asyncpg, aiosqlite, psycopg's async mode) await instead and
are never counted.  A listener on the `Engine` class makes every engine dispatch its
statement events, so the listeners go on only once a pool with a sync dialect checks
out (`watch`): an app that only awaits its driver pays nothing per statement.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from sessionbench.reading import LoopCallsReading

from .locations import APP_FRAME_DEPTH, app_location_here
from .requests import current_route
from .sites import SiteTally

_STARTED = "sessionbench_loop_call_started"  # connection.info key


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class LoopCalls:
    def __init__(self) -> None:
        self.calls = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.sites = SiteTally()
        self._sync_pool_seen = False
        self._installed = False

    def install(self) -> None:
        self._installed = True
        if self._sync_pool_seen:
            self._listen()

    def uninstall(self) -> None:
        self._installed = False
        for name, fn in self._handlers():
            if event.contains(Engine, name, fn):
                event.remove(Engine, name, fn)

    def watch(self, pool: Pool) -> None:
        """A pool at its first checkout: a sync dialect's switches the listeners on."""
        # `_dialect` is the dialect `create_engine` gave the pool; no public name has it.
        if pool._dialect.is_async or self._sync_pool_seen:
            return
        self._sync_pool_seen = True
        if self._installed:
            self._listen()

    def _listen(self) -> None:
        # The connection being opened sees these too: its events are looked up when used.
        for name, fn in self._handlers():
            event.listen(Engine, name, fn)

    def _handlers(self) -> tuple[tuple[str, Callable[..., None]], ...]:
        return (("before_cursor_execute", self._before), ("after_cursor_execute", self._after))

    def _before(self, conn: Any, *_args: Any) -> None:
        # An async dialect's execute runs in a greenlet on the loop's thread: not a block.
        if not conn.dialect.is_async and _loop_running_here():
            conn.info[_STARTED] = time.perf_counter()

    def _after(self, conn: Any, *_args: Any) -> None:
        started = conn.info.pop(_STARTED, None)
        if started is None:
            return
        ms = (time.perf_counter() - started) * 1000
        self.calls += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)
        self.sites.add((current_route(), app_location_here(APP_FRAME_DEPTH)))

    def snapshot(self) -> LoopCallsReading:
        return LoopCallsReading(
            calls=self.calls,
            total_ms=round(self.total_ms, 3),
            max_ms=round(self.max_ms, 3),
            sites=self.sites.snapshot(),
        )
