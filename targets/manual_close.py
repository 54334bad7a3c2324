"""`manual-close`: `SessionLocal()` ... `close()` by hand, without try/finally.

A known-bad target for the connection-leak diagnosis: when a route raises, the
exception skips `close()`, and the session's connection stays checked out until the
garbage collector finds it (SQLAlchemy then warns about a non-checked-in connection).
Plain `def` routes that commit themselves, so only the error path is wrong.
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
        yield db
        db.close()  # the mistake: skipped when the route raises

    return create_app(
        config,
        build_router(get_db, RouteStyle.THREADPOOL, commit_in_route=True),
        engine=engine,
    )


STRATEGY = register(
    Strategy(
        name="manual-close",
        summary="SessionLocal() ... close() by hand without try/finally (leaks on errors)",
        api="sync",
        build_app=build_app,
        expected_findings=("connection-leak",),
        tags=("broken",),
    )
)
