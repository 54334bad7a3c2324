"""`sync-in-async`: a sync `Session` from `Depends(get_db)` used inside `async def` routes.

The pattern of many tutorials.  Every query runs on the event loop thread, so one slow
query stalls every other request on the worker.
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

    async def dispose() -> None:
        engine.dispose()

    return create_app(config, build_router(get_db, RouteStyle.SYNC_IN_ASYNC), on_shutdown=dispose)


STRATEGY = register(
    Strategy(
        name="sync-in-async",
        summary="sync Session via Depends(get_db) used in async def routes (blocks the loop)",
        api="sync",
        build_app=build_app,
        expected_findings=("event-loop-blocking",),
    )
)
