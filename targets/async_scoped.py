"""`async-scoped`: `async_scoped_session` keyed on `asyncio.current_task`.

Each request task gets its own session from the registry; `remove()` at the end of the
request closes it and drops the registry entry (without it, the registry grows forever).
"""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session, async_sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_async_engine
from .registry import Strategy, register
from .routes import RouteStyle, build_router


def build_app(config: TargetConfig) -> FastAPI:
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
            await scoped.remove()

    return create_app(
        config,
        build_router(get_session, RouteStyle.ASYNC),
        engine=engine,
        scoped=scoped,
        on_shutdown=engine.dispose,
    )


STRATEGY = register(
    Strategy(
        name="async-scoped",
        summary="async_scoped_session(scopefunc=current_task) with remove() at request end",
        api="async",
        build_app=build_app,
    )
)
