"""The probes attribute what they see to the request's route and the app's own line,
in a real FastAPI app on SQLite (sync and async sessions), with nothing of the app
changed: SQLAlchemy's class-level events and the request middleware only."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from sessionbench.reading import ProbeReading, Site
from sessionbench.targets.probes import Probes
from sessionbench.targets.probes.locations import relative


def line_of(function: Callable[..., Any], text_in_line: str) -> str:
    """ "tests/test_probe_attribution.py:N in name": the line of `function` with the text."""
    code = function.__code__
    lines = Path(code.co_filename).read_text().splitlines()
    number = next(
        n for n in range(code.co_firstlineno, len(lines) + 1) if text_in_line in lines[n - 1]
    )
    return f"{relative(code.co_filename)}:{number} in {code.co_name}"


def measure(app: FastAPI, requests: list[tuple[str, str]]) -> ProbeReading:
    """Serve `requests` through the probes' middleware; the final reading."""
    probes = Probes()

    async def serve() -> ProbeReading:
        probes.start()
        try:
            transport = httpx.ASGITransport(app=probes.middleware(app), raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for method, path in requests:
                    await client.request(method, path)
            await asyncio.sleep(0.01)  # let an overdue lag tick record the last stall
            return probes.snapshot(final=True)
        finally:
            probes.stop()

    return asyncio.run(serve())


def sites(found: list[Site]) -> set[tuple[str | None, str | None, int]]:
    return {(s.route, s.location, s.count) for s in found}


def test_a_kept_sync_session_names_its_route_and_line(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    session_local = sessionmaker(engine)
    kept: list[Session] = []
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        db = session_local()
        db.execute(text("SELECT 1"))
        kept.append(db)
        return {"id": item_id}

    reading = measure(app, [("GET", "/items/1"), ("GET", "/items/2")])
    where = line_of(read_item, "db.execute")
    expected = {("GET /items/{item_id}", where, 2)}
    assert sites(reading.pool.sessions_alive_at) == expected
    assert sites(reading.pool.idle_after_request_at) == expected
    assert sites(reading.pool.checked_out_at) == expected
    assert sites(reading.loop.sync_driver_calls.sites) == expected
    engine.dispose()


def test_an_engine_built_in_a_request_has_its_first_statement_counted(tmp_path: Path) -> None:
    # A sync engine is listened to from its first connection on: the statement on that
    # very connection counts.
    app = FastAPI()

    @app.get("/report")
    async def report() -> dict[str, bool]:
        engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return {"ok": True}

    reading = measure(app, [("GET", "/report"), ("GET", "/report")])
    where = line_of(report, "conn.execute")
    assert sites(reading.loop.sync_driver_calls.sites) == {("GET /report", where, 2)}


def test_an_async_session_is_traced_through_its_greenlet_to_the_app(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    kept: list[AsyncSession] = []
    app = FastAPI()

    @app.post("/notes")
    async def add_note() -> dict[str, bool]:
        session = AsyncSession(engine)
        await session.execute(text("SELECT 1"))
        kept.append(session)
        return {"ok": True}

    reading = measure(app, [("POST", "/notes")])
    where = line_of(add_note, "await session.execute")
    assert sites(reading.pool.sessions_in_transaction_at) == {("POST /notes", where, 1)}
    assert reading.loop.sync_driver_calls.calls == 0  # an async driver awaits
    asyncio.run(engine.dispose())


def test_healthy_routes_leave_nothing_and_hold_times_are_per_route(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    session_local = sessionmaker(engine)

    def get_db() -> Any:
        with session_local() as db:
            yield db

    app = FastAPI()

    @app.get("/slow")
    def slow(db: Annotated[Session, Depends(get_db)]) -> dict[str, bool]:
        db.execute(text("SELECT 1"))
        time.sleep(0.03)
        db.rollback()
        return {"ok": True}

    reading = measure(app, [("GET", "/slow"), ("GET", "/slow")])
    pool = reading.pool
    assert (pool.sessions_alive_at, pool.checked_out_at, pool.idle_after_request_at) == ([], [], [])
    assert reading.loop.sync_driver_calls.calls == 0  # a def route runs in the threadpool
    hold = pool.hold_by_route["GET /slow"]
    assert hold.checkins == 2 and 30 <= hold.p50_ms <= hold.max_ms
    engine.dispose()


def test_a_stall_names_the_route_the_loop_was_serving() -> None:
    app = FastAPI()

    @app.get("/report/{name}")
    async def report(name: str) -> dict[str, str]:
        time.sleep(0.08)  # CPU-bound work stands in: the loop thread is held
        return {"name": name}

    reading = measure(app, [("GET", "/report/x")])
    stall = max(reading.stalls, key=lambda s: s.duration_ms)
    assert stall.route == "GET /report/{name}" and stall.app_frame is not None
    assert stall.stack[stall.app_frame] == line_of(report, "time.sleep")
    assert reading.loop.held.app_waiting_routes["GET /report/{name}"] > 0


def test_engines_built_per_request_are_told_from_a_shared_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    shared = create_engine(url)
    app = FastAPI()

    @app.get("/fresh")
    def fresh() -> None:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    @app.get("/shared")
    def use_shared() -> None:
        with shared.connect() as conn:
            conn.execute(text("SELECT 1"))

    requests = [("GET", "/fresh"), ("GET", "/fresh"), ("GET", "/shared"), ("GET", "/shared")]
    reading = measure(app, requests)
    where = line_of(fresh, "engine.connect()")
    assert sites(reading.pool.engines_in_requests_at) == {("GET /fresh", where, 2)}
    shared.dispose()


def test_a_commit_after_the_response_names_its_dependency(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    session_local = sessionmaker(engine)

    def get_db() -> Any:
        db = session_local()
        try:
            yield db
            db.commit()  # default request scope: after the response
        finally:
            db.close()

    app = FastAPI()

    @app.post("/items")
    def create(db: Annotated[Session, Depends(get_db)]) -> dict[str, bool]:
        db.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        return {"ok": True}

    reading = measure(app, [("POST", "/items")])
    assert sites(reading.commits.after_response_at) == {
        ("POST /items", line_of(get_db, "db.commit()"), 1)
    }
    engine.dispose()


def test_checkout_waits_are_timed_for_every_engine_and_put_back(tmp_path: Path) -> None:
    from sqlalchemy.pool import Pool, QueuePool

    engine = create_engine(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )
    app = FastAPI()

    @app.get("/busy")
    def busy() -> None:
        with engine.connect():  # the only connection is taken: waits, then times out
            pass

    held = engine.connect()
    original = Pool.__dict__["connect"]
    reading = measure(app, [("GET", "/busy")])
    held.close()
    assert reading.pool.pool_timeouts == 1
    assert max(reading.pool.checkout_wait_ms) >= 50  # the engine was never handed over
    assert Pool.__dict__["connect"] is original
    engine.dispose()
