"""Sync driver calls on a thread that runs an event loop.

A sync driver (psycopg, PyMySQL, sqlite3) waits for the server inside C code or a
socket read, with the loop stuck in the calling callback: every other request on the
worker waits for that round trip, however short it is.  Patching blocking functions
cannot see such a wait; SQLAlchemy's class-level cursor events can, for every engine:
a cursor execute on a sync dialect while an event loop is running in the same thread
is one.  Async dialects (asyncpg, aiosqlite, psycopg's async mode) await instead and
are never counted, so only engines with a sync dialect are listened to: each engine the
app connects is handed over when it first connects (`watch`), and an async app pays
nothing per statement.
"""

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

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
        self._engines: weakref.WeakSet[Engine] = weakref.WeakSet()  # with a sync dialect
        self._listening = False

    def install(self) -> None:
        self._listening = True
        for engine in list(self._engines):
            self._listen(engine)

    def uninstall(self) -> None:
        self._listening = False
        for engine in list(self._engines):
            for name, fn in self._handlers():
                if event.contains(engine, name, fn):
                    event.remove(engine, name, fn)

    def watch(self, engine: Engine) -> None:
        """An engine that connected for the first time: listened to if its dialect is sync."""
        if engine.dialect.is_async or engine in self._engines:
            return
        self._engines.add(engine)
        if self._listening:
            self._listen(engine)

    def _listen(self, engine: Engine) -> None:
        # The connection being opened sees these too: its events are looked up when used.
        for name, fn in self._handlers():
            event.listen(engine, name, fn)

    def _handlers(self) -> tuple[tuple[str, Callable[..., None]], ...]:
        return (("before_cursor_execute", self._before), ("after_cursor_execute", self._after))

    def _before(self, conn: Any, *_args: Any) -> None:
        if _loop_running_here():
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
