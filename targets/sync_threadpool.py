"""`sync-threadpool`: a sync `Session` in plain `def` routes, run in FastAPI's threadpool.

The loop stays free; concurrency is bounded by the threadpool (40 tokens by default)
and by the pool, and the two limits interact.
"""

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_sync_engine
from .registry import Strategy, register
from .routes import RouteStyle, build_router
from .sessions import sync_session_dependency


def build_app(config: TargetConfig) -> FastAPI:
    engine = make_sync_engine(config)
    get_db = sync_session_dependency(sessionmaker(engine))

    return create_app(config, build_router(get_db, RouteStyle.THREADPOOL), engine=engine)


STRATEGY = register(
    Strategy(
        name="sync-threadpool",
        summary="sync Session in plain def routes (FastAPI threadpool)",
        api="sync",
        build_app=build_app,
    )
)
