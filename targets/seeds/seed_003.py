"""seed 003: `DatabaseManager()` built inside the dependency; commit after `yield`.

The post's code, sync then async, which these targets run as written (`DB_SETTINGS.url`
is the cell's database):

    class DatabaseManager:
        def __init__(self):
            self.engine = create_engine(
                DB_SETTINGS.url,
                pool_recycle=28000,
                pool_pre_ping=True,
                connect_args=connect_args(config),
            )
            self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    def get_db_session() -> Generator[Session, Any, None]:
        session = DatabaseManager().session_factory()
        try:
            yield session
            session.commit()
        except Exception as e:
            session.rollback()
            raise e
        finally:
            session.close()

    class UserStore:
        def __init__(self, session: Annotated[Session, Depends(get_db_session)]) -> None:
            self.session = session

and the same with `create_async_engine`, `async_sessionmaker` and `await`.  Every request
builds a new engine and pool and opens a new connection that nothing disposes of.  The
commit runs after `yield` with FastAPI's default dependency scope, which on current
FastAPI sends the response first: a client can be told "created" before the row is
committed, and a failing commit still answers 200.  The views are `async def`, so the
sync version also runs its queries on the event loop, as the post itself points out.
"""

from collections.abc import AsyncGenerator, Generator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from .. import operations as ops
from ..config import TargetConfig
from ..contract import create_app
from ..engines import connect_args, serve_contract
from ..registry import Strategy, register

SOURCE = "003_fccb42ab8d5f9d0d"
# The post's pool_recycle=28000 is the MySQL idiom (just under its 8-hour idle timeout).
# On SQLite the pattern locks itself up: a write waits on the event loop for a lock that
# only the threadpool's after-response commit/rollback releases, for the 5 s busy timeout.
SERVER_DATABASES = ("postgres", "mysql")


def build_sync(config: TargetConfig) -> FastAPI:
    class DatabaseManager:
        def __init__(self) -> None:
            self.engine = create_engine(
                config.database_url,
                pool_recycle=28000,
                pool_pre_ping=True,
                connect_args=connect_args(config),
            )
            serve_contract(self.engine)
            self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    def get_db_session() -> Generator[Session, Any, None]:
        session = DatabaseManager().session_factory()
        try:
            yield session
            session.commit()
        except Exception as e:
            session.rollback()
            raise e
        finally:
            session.close()

    class ItemStore:
        def __init__(self, session: Annotated[Session, Depends(get_db_session)]) -> None:
            self.session = session

    Store = Annotated[ItemStore, Depends()]
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read_item(item_id: int, store: Store) -> dict[str, object]:
        return ops.read_item(store.session, item_id)

    @router.get("/items")
    async def list_items(store: Store, limit: int = 20) -> list[dict[str, object]]:
        return ops.list_items(store.session, limit)

    @router.post("/items")
    async def create_item(payload: ops.ItemIn, store: Store) -> dict[str, object]:
        return ops.create_item(store.session, payload)

    @router.post("/transfer")
    async def transfer(payload: ops.TransferIn, store: Store) -> dict[str, object]:
        return ops.transfer(store.session, payload)

    @router.get("/slow")
    async def slow(store: Store, ms: int = 50) -> dict[str, object]:
        return ops.slow(store.session, ms)

    @router.get("/fail")
    async def fail(store: Store) -> dict[str, object]:
        return ops.fail(store.session)

    return create_app(config, router)


def build_async(config: TargetConfig) -> FastAPI:
    class DatabaseManager:
        def __init__(self) -> None:
            self.engine = create_async_engine(
                config.database_url,
                pool_recycle=28000,
                pool_pre_ping=True,
                connect_args=connect_args(config),
            )
            serve_contract(self.engine.sync_engine)
            self.session_factory = async_sessionmaker(bind=self.engine, expire_on_commit=False)

    async def get_db_session() -> AsyncGenerator[AsyncSession, None]:
        session = DatabaseManager().session_factory()
        try:
            yield session
            await session.commit()
        except Exception as e:
            await session.rollback()
            raise e
        finally:
            await session.close()

    class ItemStore:
        def __init__(self, session: Annotated[AsyncSession, Depends(get_db_session)]) -> None:
            self.session = session

    Store = Annotated[ItemStore, Depends()]
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read_item(item_id: int, store: Store) -> dict[str, object]:
        return await store.session.run_sync(ops.read_item, item_id)

    @router.get("/items")
    async def list_items(store: Store, limit: int = 20) -> list[dict[str, object]]:
        return await store.session.run_sync(ops.list_items, limit)

    @router.post("/items")
    async def create_item(payload: ops.ItemIn, store: Store) -> dict[str, object]:
        return await store.session.run_sync(ops.create_item, payload)

    @router.post("/transfer")
    async def transfer(payload: ops.TransferIn, store: Store) -> dict[str, object]:
        return await store.session.run_sync(ops.transfer, payload)

    @router.get("/slow")
    async def slow(store: Store, ms: int = 50) -> dict[str, object]:
        return await store.session.run_sync(ops.slow, ms)

    @router.get("/fail")
    async def fail(store: Store) -> dict[str, object]:
        return await store.session.run_sync(ops.fail)

    return create_app(config, router)


register(
    Strategy(
        name="seed-003-sync",
        summary="post 003: DatabaseManager() (new engine) per request, commit after yield; "
        "sync Session in async def views",
        api="sync",
        build_app=build_sync,
        expected_findings=("engine-per-request", "event-loop-blocking", "lost-write"),
        tags=("seed",),
        source=SOURCE,
        databases=SERVER_DATABASES,
    )
)
register(
    Strategy(
        name="seed-003-async",
        summary="post 003: DatabaseManager() (new async engine) per request, commit after yield",
        api="async",
        build_app=build_async,
        expected_findings=("engine-per-request", "lost-write"),
        tags=("seed",),
        source=SOURCE,
        databases=SERVER_DATABASES,
    )
)
