"""`async-session`: one `AsyncSession` per request from `async_sessionmaker`.

The healthy baseline: commit or rollback in the dependency, before the response.
"""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_async_engine
from .registry import Strategy, register
from .routes import RouteStyle, build_router
from .sessions import async_session_dependency


def build_app(config: TargetConfig) -> FastAPI:
    return app_over(config, make_async_engine(config))


def app_over(config: TargetConfig, engine: AsyncEngine) -> FastAPI:
    """The strategy's app over an engine built elsewhere (its twin behind a pooler)."""
    get_session = async_session_dependency(async_sessionmaker(engine, expire_on_commit=False))
    return create_app(
        config,
        build_router(get_session, RouteStyle.ASYNC),
        engine=engine,
    )


STRATEGY = register(
    Strategy(
        name="async-session",
        summary="AsyncSession per request, commit/rollback in the dependency (healthy baseline)",
        api="async",
        build_app=build_app,
    )
)
