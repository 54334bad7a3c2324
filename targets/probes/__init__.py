"""Probes: the instrumentation surface any FastAPI app + SQLAlchemy engine can attach.

    from sessionbench.targets.probes import Probes

    probes = Probes()
    probes.watch_engine(engine)            # optional: its pool's overflow
    probes.watch_registry(scoped_session)  # optional: async_scoped_session / scoped_session
    probes.install(app)                    # adds GET /_sessionbench/probe, starts at startup

What it measures, inside the app's own process:
- event-loop lag: a 2 ms timer's lateness (max, p99, total, histogram) and stalls with
  their cause (GC or code) and the loop thread's stack while it was blocked;
- sync driver calls made on the loop's thread (each blocks it for a round trip);
- GC pauses (`gc.callbacks`), so collector pauses are never blamed on the strategy;
- pool: connections opened/closed, checked out (max), overflow, checkout waits, pool
  timeouts, invalidations, engines in use, connections the GC had to clean up;
- sessions begun and still alive, the scoped-session registry size;
- the threadpool: tokens borrowed of the total;
- commits that completed after the response had been sent;
- requests in flight.

Each stall, held connection, open session, reclaimed session, late commit and engine
built in a request names its route ("GET /items/{id}") and the app's own line; pool
hold times are kept per route.  The listeners sit on SQLAlchemy's classes, so every
engine and session the app creates is seen, whenever and wherever it is created.

`GET /_sessionbench/probe` returns the reading (`sessionbench.reading.ProbeReading`) as
JSON; `?since=N` returns the stall details from number N on (the reading's `next_stall`
is the next poll's N); `?final=1` first runs a full collection, so that only objects
something still holds are counted as alive.
"""

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from sessionbench.reading import LagReading, LoopReading, ProbeReading

from .commits import CommitTiming
from .database import DatabaseProbe
from .gcwatch import GcWatch
from .loop import PERIOD_S, LoopMonitor
from .loop_calls import LoopCalls
from .requests import PROBE_PATH, RequestCounter, RequestTrackingMiddleware
from .threadpool import ThreadpoolProbe

__all__ = ["PROBE_PATH", "Probes"]


class Probes:
    def __init__(self) -> None:
        self.gc = GcWatch()
        self.loop = LoopMonitor(self.gc)
        self.database = DatabaseProbe()
        self.threadpool = ThreadpoolProbe()
        self.commits = CommitTiming()
        self.loop_calls = LoopCalls()
        self.loop.on_tick.append(self.threadpool.sample)
        self.database.pool_seen.append(self.loop_calls.watch)
        self.requests = RequestCounter()
        self.started = time.perf_counter()

    def watch_engine(self, engine: Engine | AsyncEngine) -> None:
        self.database.watch_engine(
            engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        )

    def watch_registry(self, scoped: Any) -> None:
        """A `scoped_session` or `async_scoped_session`: report how many sessions it holds."""
        self.database.watch_registry(lambda: len(scoped.registry.registry))

    def start(self) -> None:
        """On the app's event loop: listen, and watch this loop."""
        self.listen()
        self.threadpool.start()
        self.loop.start()

    def listen(self) -> None:
        """The listeners that need no event loop (GC, SQLAlchemy's classes)."""
        self.gc.install()
        self.database.install()
        self.commits.install()
        self.loop_calls.install()

    def stop(self) -> None:
        self.loop.stop()
        self.loop_calls.uninstall()
        self.commits.uninstall()
        self.database.uninstall()
        self.gc.uninstall()

    def middleware(self, app: Any) -> RequestTrackingMiddleware:
        """`app` wrapped in the request tracking the readings are attributed with."""
        return RequestTrackingMiddleware(
            app, counter=self.requests, on_end=self.database.request_ended
        )

    def snapshot(self, final: bool = False, since: int = 0) -> ProbeReading:
        if final:
            gc.collect()
        loop, lag = self.loop, self.loop.lag
        held = loop.held.model_copy(
            update={
                "app_waiting_frames": dict(loop.held.app_waiting_frames),
                "app_waiting_routes": dict(loop.held.app_waiting_routes),
            }
        )
        reading = ProbeReading(
            uptime_s=round(time.perf_counter() - self.started, 3),
            final=final,
            loop=LoopReading(
                lag=LagReading(
                    max_ms=round(lag.max_ms, 3),
                    window_max_ms=round(lag.window_max_ms, 3),
                    p99_ms=lag.percentile(0.99),
                    total_ms=round(lag.total_ms, 3),
                    ticks=lag.ticks,
                    histogram=dict(lag.histogram),
                ),
                stalls=loop.totals.model_copy(deep=True),
                held=held,
                sync_driver_calls=self.loop_calls.snapshot(),
            ),
            stalls=loop.stalls_since(since),
            next_stall=loop.stall_count,
            gc=self.gc.snapshot(),
            pool=self.database.snapshot(),
            threadpool=self.threadpool.snapshot(),
            commits=self.commits.snapshot(),
            requests=self.requests.snapshot(),
        )
        lag.window_max_ms = 0.0
        return reading

    def install(self, app: FastAPI) -> None:
        """Start with the app's lifespan (wrapping the app's own) and serve the readings."""
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
            self.start()
            try:
                async with inner(app_) as state:
                    yield state
            finally:
                self.stop()

        app.router.lifespan_context = lifespan
        app.add_middleware(
            RequestTrackingMiddleware, counter=self.requests, on_end=self.database.request_ended
        )

        @app.get(PROBE_PATH, include_in_schema=False)
        async def probe(final: bool = False, since: int = 0) -> Response:
            if final:
                # Let an overdue lag tick run first, so a stall that just ended is counted.
                await asyncio.sleep(2 * PERIOD_S)
            reading = self.snapshot(final, since)
            return Response(reading.model_dump_json(), media_type="application/json")
