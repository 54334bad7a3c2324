"""`engine-per-request`: a new engine (and so a new pool) built inside the dependency.

A known-bad target for the engine-per-request diagnosis, as in code that builds its
database manager per request (seed 003): each request opens a fresh connection in a
fresh pool, and the abandoned pools keep their connections until garbage collection.
Plain `def` routes, so the loop is not blocked and only this problem shows.
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
    def get_db() -> Iterator[Session]:
        engine = make_sync_engine(config)  # the mistake: once per request
        with sessionmaker(engine)() as db:
            try:
                yield db
                db.commit()
            except Exception:
                db.rollback()
                raise

    return create_app(config, build_router(get_db, RouteStyle.THREADPOOL))


STRATEGY = register(
    Strategy(
        name="engine-per-request",
        summary="a new engine and pool built inside the dependency on every request",
        api="sync",
        build_app=build_app,
        expected_findings=("engine-per-request",),
        tags=("broken",),
    )
)
