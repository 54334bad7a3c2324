"""Engine construction shared by all strategies: pool settings plus per-dialect set-up.

SQLite gets a `sb_sleep_ms(ms)` function so that `/slow` spends real time inside the
database call (as `pg_sleep` does on Postgres) and WAL mode so readers do not wait for
writers; the busy timeout stays at the driver's default (5 s), as in users' apps.
Server databases get an `application_name` (Postgres) or a `program_name` connection
attribute (MySQL/MariaDB), so the server's own views can tell this target's connections
apart.  Seed targets build their engines exactly as their posts do and then call
`serve_contract`, the one step every target engine gets whoever built it.
"""

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .config import TargetConfig


def _sleep_ms(ms: float) -> int:
    time.sleep(ms / 1000)
    return 0


def connect_args(config: TargetConfig) -> dict[str, Any]:
    url = make_url(config.database_url)
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "sqlite":
        # Pooled connections move between threads (threadpool, aiosqlite's workers).
        return {"check_same_thread": False} if driver == "pysqlite" else {}
    if backend == "postgresql" and driver == "asyncpg":
        return {"server_settings": {"application_name": config.application_name}}
    if backend == "postgresql":
        return {"application_name": config.application_name}
    if backend == "mysql":
        return {"program_name": config.application_name}
    return {}


def serve_contract(engine: Engine) -> None:
    """On SQLite, the `sb_sleep_ms` function behind GET /slow, on every new connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("sb_sleep_ms", 1, _sleep_ms)


def _use_wal(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def engine_options(config: TargetConfig) -> dict[str, Any]:
    return {**config.pool.engine_kwargs(), "connect_args": connect_args(config)}


def make_sync_engine(config: TargetConfig) -> Engine:
    engine = create_engine(config.database_url, **engine_options(config))
    serve_contract(engine)
    _use_wal(engine)
    return engine


def make_async_engine(
    config: TargetConfig, extra_connect_args: dict[str, Any] | None = None
) -> AsyncEngine:
    options = engine_options(config)
    options["connect_args"].update(extra_connect_args or {})
    engine = create_async_engine(config.database_url, **options)
    serve_contract(engine.sync_engine)
    _use_wal(engine.sync_engine)
    return engine
