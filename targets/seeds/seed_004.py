"""seed 004: `postgresql+asyncpg`, `async_scoped_session(scopefunc=current_task)`, no `remove()`.

The post's code, which this target runs as written on the cell's Postgres database:

    SQLALCHEMY_DATABASE_URL = f"postgresql+asyncpg://{...}"
    engine: AsyncEngine = create_async_engine(
        SQLALCHEMY_DATABASE_URL, echo=True, pool_pre_ping=True
    )
    session_maker = sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
    session: Union[AsyncSession, async_scoped_session] = async_scoped_session(
        session_factory=session_maker,
        scopefunc=current_task,
    )

The post never calls `session.remove()` (nor `close()`), so the routes here use the
module's `session` as its readers do: commit after a change, nothing after a read.
Each request task gets its own session, and the registry keeps it (and the task) for
ever; a session that only read keeps its transaction and its connection, so the pool
runs dry after pool_size + max_overflow reads and everything waits for `pool_timeout`.
`echo=True` logs every statement to the target's log.
"""

from asyncio import current_task

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    create_async_engine,
)
from sqlalchemy.orm import sessionmaker

from .. import operations as ops
from ..config import TargetConfig
from ..contract import create_app
from ..engines import connect_args
from ..registry import Strategy, register


def build_app(config: TargetConfig) -> FastAPI:
    SQLALCHEMY_DATABASE_URL = config.database_url
    engine: AsyncEngine = create_async_engine(
        SQLALCHEMY_DATABASE_URL, echo=True, pool_pre_ping=True, connect_args=connect_args(config)
    )
    # As written: sessionmaker with class_=AsyncSession (SQLAlchemy's types expect an
    # async_sessionmaker, and both work at run time).
    session_maker = sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)  # type: ignore[call-overload]
    session: AsyncSession | async_scoped_session[AsyncSession] = async_scoped_session(
        session_factory=session_maker,
        scopefunc=current_task,
    )
    scoped = session
    assert isinstance(scoped, async_scoped_session)
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, object]:
        return await scoped().run_sync(ops.read_item, item_id)

    @router.get("/items")
    async def list_items(limit: int = 20) -> list[dict[str, object]]:
        return await scoped().run_sync(ops.list_items, limit)

    @router.post("/items")
    async def create_item(payload: ops.ItemIn) -> dict[str, object]:
        item = await scoped().run_sync(ops.create_item, payload)
        await session.commit()
        return item

    @router.post("/transfer")
    async def transfer(payload: ops.TransferIn) -> dict[str, object]:
        result = await scoped().run_sync(ops.transfer, payload)
        await session.commit()
        return result

    @router.get("/slow")
    async def slow(ms: int = 50) -> dict[str, object]:
        return await scoped().run_sync(ops.slow, ms)

    @router.get("/fail")
    async def fail() -> dict[str, object]:
        return await scoped().run_sync(ops.fail)

    return create_app(config, router, engine=engine, scoped=scoped)


STRATEGY = register(
    Strategy(
        name="seed-004",
        summary="post 004: asyncpg, echo=True, async_scoped_session(current_task), never remove()d",
        api="async",
        build_app=build_app,
        # Sessions kept by the registry keep their transactions and connections: a
        # connection leak, which also starves the pool and leaves transactions idle
        # (reported inside the leak's evidence), and a session leak.
        expected_findings=("connection-leak", "session-leak"),
        tags=("seed",),
        source="004_9e656f7916d159e7",
        databases=("postgres",),
    )
)
