"""`sync-in-async`: a sync `Session` from `Depends(get_db)` used inside `async def` routes.

The pattern of many tutorials: `get_db` opens a session and closes it in `finally`;
the route commits.  Every query runs on the event loop thread, so one slow query (or
one wait for a lock) stalls every other request on the worker.
"""

from collections.abc import Iterator

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_sync_engine
from .registry import Strategy, register
from .routes import RouteStyle, build_router


def build_app(config: TargetConfig) -> FastAPI:
    engine = make_sync_engine(config)
    session_local = sessionmaker(engine)

    def get_db() -> Iterator[Session]:
        db = session_local()
        try:
            yield db
        finally:
            db.close()

    return create_app(
        config,
        build_router(get_db, RouteStyle.SYNC_IN_ASYNC, commit_in_route=True),
        engine=engine,
    )


STRATEGY = register(
    Strategy(
        name="sync-in-async",
        summary="sync Session via Depends(get_db) used in async def routes (blocks the loop)",
        api="sync",
        build_app=build_app,
        expected_findings=("event-loop-blocking",),
    )
)
