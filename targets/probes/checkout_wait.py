"""How long requests wait for a pool connection, for every engine the app builds.

SQLAlchemy has no event before a checkout, only after it, so the wait is timed around
the pool's `connect()`: wrapped on the `Pool` class and on each pool class that
defines its own (`SingletonThreadPool`), for as long as the probes run, and put back
after.  The wait covers queueing for a free connection, opening a new one and a
pre-ping; a `QueuePool limit ... reached` timeout is counted on its own.
"""

import time
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from sqlalchemy import exc
from sqlalchemy.pool import Pool


def _pool_classes(cls: type[Pool] = Pool) -> Iterator[type[Pool]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _pool_classes(sub)


class CheckoutWait:
    def __init__(self) -> None:
        self.histogram: dict[int, int] = {}  # whole ms -> checkouts
        self.timeouts = 0
        self._wrapped: list[tuple[type[Pool], Callable[..., Any], Callable[..., Any]]] = []

    def install(self) -> None:
        for cls in _pool_classes():
            original = cls.__dict__.get("connect")
            if original is not None:
                wrapper = self._timed(original)
                cls.connect = wrapper  # type: ignore[method-assign]
                self._wrapped.append((cls, original, wrapper))

    def uninstall(self) -> None:
        for cls, original, wrapper in reversed(self._wrapped):
            if cls.__dict__.get("connect") is wrapper:  # not wrapped again since
                cls.connect = original
        self._wrapped.clear()

    def _timed(self, connect: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(connect)
        def timed_connect(pool: Pool) -> Any:
            started = time.perf_counter()
            try:
                return connect(pool)
            except exc.TimeoutError:
                self.timeouts += 1
                raise
            finally:
                bucket = int((time.perf_counter() - started) * 1000)
                self.histogram[bucket] = self.histogram.get(bucket, 0) + 1

        return timed_connect
