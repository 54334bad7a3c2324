"""Per-request session costs, in-process, for each strategy's way of using a session.

Each benchmark is one request's worth of session work: open a session, read one row,
commit, close.  Async benchmarks run on the suite's one event loop (created outside
the timed region).  Pool checkout costs are measured per pool class, and the
`async_scoped_session` registry lookup on its own.
"""

import asyncio
from collections.abc import Iterator

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_scoped_session,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from sessionbench.targets.models import Item

Loop = asyncio.AbstractEventLoop
LOOKUPS = 1000  # registry lookups per timed call: one alone is below the timer's grain


@pytest.fixture(scope="module")
def sync_engine(urls: tuple[str, str]) -> Iterator[Engine]:
    engine = create_engine(urls[0], pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def async_engine(urls: tuple[str, str], loop: Loop) -> Iterator[AsyncEngine]:
    engine = create_async_engine(urls[1], pool_size=5)
    yield engine
    loop.run_until_complete(engine.dispose())


@pytest.mark.benchmark(group="request: session, one read, commit, close")
def bench_sync_session(benchmark: BenchmarkFixture, sync_engine: Engine) -> None:
    """sync-in-async and sync-threadpool: a sync Session per request."""
    factory = sessionmaker(sync_engine)

    def request() -> None:
        with factory() as db:
            db.scalar(select(Item).where(Item.id == 1))
            db.commit()

    benchmark(request)


@pytest.mark.benchmark(group="request: session, one read, commit, close")
def bench_async_session(benchmark: BenchmarkFixture, async_engine: AsyncEngine, loop: Loop) -> None:
    """async-session: an AsyncSession per request from async_sessionmaker."""
    factory = async_sessionmaker(async_engine, expire_on_commit=False)

    async def request() -> None:
        async with factory() as db:
            await db.scalar(select(Item).where(Item.id == 1))
            await db.commit()

    benchmark(lambda: loop.run_until_complete(request()))


@pytest.mark.benchmark(group="request: session, one read, commit, close")
def bench_async_scoped_session(
    benchmark: BenchmarkFixture, async_engine: AsyncEngine, loop: Loop
) -> None:
    """async-scoped: the registry's session for the current task, removed at the end."""
    scoped = async_scoped_session(async_sessionmaker(async_engine), scopefunc=asyncio.current_task)

    async def request() -> None:
        try:
            await scoped().scalar(select(Item).where(Item.id == 1))
            await scoped().commit()
        finally:
            await scoped.remove()

    benchmark(lambda: loop.run_until_complete(request()))


@pytest.mark.benchmark(group="pool checkout and check-in")
@pytest.mark.parametrize("poolclass", ["QueuePool", "NullPool"])
def bench_sync_checkout(benchmark: BenchmarkFixture, urls: tuple[str, str], poolclass: str) -> None:
    options = {"poolclass": NullPool} if poolclass == "NullPool" else {"pool_size": 5}
    engine = create_engine(urls[0], **options)
    try:
        benchmark(lambda: engine.connect().close())
    finally:
        engine.dispose()


@pytest.mark.benchmark(group="pool checkout and check-in")
def bench_async_adapted_queue_pool_checkout(
    benchmark: BenchmarkFixture, async_engine: AsyncEngine, loop: Loop
) -> None:
    async def checkout() -> None:
        connection = await async_engine.connect()
        await connection.close()

    benchmark(lambda: loop.run_until_complete(checkout()))


@pytest.mark.benchmark(group=f"async_scoped_session registry lookup (x{LOOKUPS})")
def bench_scoped_registry_lookup(
    benchmark: BenchmarkFixture, async_engine: AsyncEngine, loop: Loop
) -> None:
    scoped = async_scoped_session(async_sessionmaker(async_engine), scopefunc=asyncio.current_task)

    async def lookups() -> None:
        for _ in range(LOOKUPS):
            scoped()
        await scoped.remove()

    benchmark(lambda: loop.run_until_complete(lookups()))
