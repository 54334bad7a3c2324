"""seed 000: a sync `get_db` dependency (yield, `close()` in `finally`) in `async def` routes.

The post's code, which this target runs on the cell's SQLite file:

    SQLALCHEMY_DATABASE_URL = "sqlite:///./test.db"
    engine = create_engine(SQLALCHEMY_DATABASE_URL)
    SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)

    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    @app.post("/items/")
    async def create_item(item: Item, db: Session = Depends(get_db)):
        db.add(item)
        db.commit()
        ...

Every statement runs on the event loop's thread (the routes are `async def` but the
session is sync), so one slow query stalls every other request.  The dependency keeps
FastAPI's default scope, as `Depends(get_db)` does: `close()` runs after the response.
"""

from collections.abc import Iterator

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from ..config import TargetConfig
from ..contract import create_app
from ..engines import connect_args, serve_contract
from ..registry import Strategy, register
from ..routes import RouteStyle, build_router


def build_app(config: TargetConfig) -> FastAPI:
    engine = create_engine(config.database_url, connect_args=connect_args(config))
    serve_contract(engine)
    SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)

    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    router = build_router(get_db, RouteStyle.SYNC_IN_ASYNC, commit_in_route=True, scope="request")
    return create_app(config, router, engine=engine)


STRATEGY = register(
    Strategy(
        name="seed-000",
        summary="post 000: sync get_db (yield/close) in async def routes on a SQLite file",
        api="sync",
        build_app=build_app,
        expected_findings=("event-loop-blocking",),
        tags=("seed",),
        source="000_1c8e5d372d02ffba",
        databases=("sqlite",),
    )
)
