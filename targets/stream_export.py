"""`export-finally-close` and `export-async-with`: GET /export streams a paced export
from a session the stream opens itself; the twins differ only in how it is closed.

Starlette cancels a `StreamingResponse` whose client hangs up: under uvicorn, which
speaks ASGI 2.3, it listens for the disconnect beside the stream and cancels the
stream's task group.  That cancellation is AnyIO's: every await inside the cancelled
scope is cancelled again, the ones in `finally:` too.

- `export-finally-close` (known-bad): `session = factory()` ... `finally: await
  session.close()`.  The close's ROLLBACK is cancelled with the stream, so SQLAlchemy
  cannot return the connection clean: it invalidates it (the driver terminates it) and
  the pool opens a new one for a later request.  Older SQLAlchemy and driver versions
  left such a connection checked out until the garbage collector found it
  (sqlalchemy #8145, #11125, #12077).
- `export-async-with` (its fixed twin): `async with factory() as session:`.
  `AsyncSession.__aexit__` runs close() to completion even when its task is cancelled,
  so the rollback is done and the connection goes back to the pool.

The other contract routes use the healthy `async-session` dependency.
"""

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_async_engine
from .models import Item
from .registry import Strategy, register
from .routes import RouteStyle, build_router
from .sessions import async_session_dependency

PAGES = 5
PAGE_ROWS = 20

Exporter = Callable[[async_sessionmaker[AsyncSession], int], AsyncIterator[bytes]]


async def _page(session: AsyncSession, number: int) -> bytes:
    rows = await session.scalars(
        select(Item).order_by(Item.id).offset(number * PAGE_ROWS).limit(PAGE_ROWS)
    )
    return b"".join(f"{item.id},{item.name},{item.value}\n".encode() for item in rows)


async def _pause(ms: int) -> None:
    # Paced, so that one export does not hold the database's attention for its whole
    # length; the transaction stays open across the pauses.
    await asyncio.sleep(max(0, min(ms, 1000)) / 1000)


async def export_finally_close(
    factory: async_sessionmaker[AsyncSession], ms: int
) -> AsyncIterator[bytes]:
    session = factory()
    try:
        for number in range(PAGES):
            yield await _page(session, number)
            await _pause(ms)
    finally:
        await session.close()  # the mistake: cancelled with the stream when the client leaves


async def export_async_with(
    factory: async_sessionmaker[AsyncSession], ms: int
) -> AsyncIterator[bytes]:
    async with factory() as session:  # close() runs to completion, even when cancelled
        for number in range(PAGES):
            yield await _page(session, number)
            await _pause(ms)


def _app_with(exporter: Exporter) -> Callable[[TargetConfig], FastAPI]:
    def build_app(config: TargetConfig) -> FastAPI:
        engine = make_async_engine(config)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        export = APIRouter()

        @export.get("/export")
        async def export_items(ms: int = 20) -> StreamingResponse:
            return StreamingResponse(exporter(factory, ms), media_type="text/csv")

        routes = build_router(async_session_dependency(factory), RouteStyle.ASYNC)
        return create_app(config, routes, export, engine=engine)

    return build_app


# The twins as records: name, summary, the stream, the diagnosis under scenario `abort`.
TWINS: tuple[tuple[str, str, Exporter, tuple[str, ...]], ...] = (
    (
        "export-finally-close",
        "GET /export streams from a session closed in `finally:`: a client that hangs up "
        "cancels the close (known-bad, scenario `abort`)",
        export_finally_close,
        ("cancelled-close",),
    ),
    (
        "export-async-with",
        "GET /export streams from `async with` session: the close survives a client that "
        "hangs up (healthy twin of export-finally-close)",
        export_async_with,
        (),
    ),
)
for name, summary, exporter, expected in TWINS:
    register(
        Strategy(
            name=name,
            summary=summary,
            api="async",
            build_app=_app_with(exporter),
            expected_findings=expected,
            tags=("fault",),
        )
    )
