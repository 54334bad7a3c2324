"""`async-scoped`: `async_scoped_session` keyed on `asyncio.current_task`.

Each request task gets its own session from the registry; `remove()` at the end of the
request closes it and drops the registry entry.  `async-scoped-noremove` is the same
without `remove()`: the registry keeps every request's session (and its finished task)
forever, a known-bad target for the session-leak diagnosis.
"""

import asyncio
from collections.abc import AsyncIterator
from functools import partial

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session, async_sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_async_engine
from .registry import Strategy, register
from .routes import RouteStyle, build_router


def build_app(config: TargetConfig, *, remove: bool) -> FastAPI:
    engine = make_async_engine(config)
    scoped = async_scoped_session(
        async_sessionmaker(engine, expire_on_commit=False), scopefunc=asyncio.current_task
    )

    async def get_session() -> AsyncIterator[AsyncSession]:
        session = scoped()
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise
        finally:
            if remove:
                await scoped.remove()

    return create_app(
        config,
        build_router(get_session, RouteStyle.ASYNC),
        engine=engine,
        scoped=scoped,
    )


STRATEGY = register(
    Strategy(
        name="async-scoped",
        summary="async_scoped_session(scopefunc=current_task) with remove() at request end",
        api="async",
        build_app=partial(build_app, remove=True),
    )
)
NOREMOVE = register(
    Strategy(
        name="async-scoped-noremove",
        summary="async_scoped_session(scopefunc=current_task) never remove()d (leaks sessions)",
        api="async",
        build_app=partial(build_app, remove=False),
        expected_findings=("session-leak",),
        tags=("broken",),
    )
)
