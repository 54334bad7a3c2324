"""Fixtures for the micro-benchmarks: databases, engines, and one long-lived event loop.

The loop is created once per session and kept outside every timed region: a benchmark
times `loop.run_until_complete(one_request())`, never the loop's creation.  Databases
come from SESSIONBENCH_MICRO_DATABASES (default "sqlite"); "postgres" needs
SESSIONBENCH_POSTGRES_URL and is skipped without it.
"""

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text

from sessionbench.targets.models import Base, seed_items

DATABASES_ENV = "SESSIONBENCH_MICRO_DATABASES"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        names = os.environ.get(DATABASES_ENV, "sqlite").split(",")
        metafunc.parametrize("database", names, scope="session")


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


def _create_schema(url: str | URL) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            Base.metadata.tables["items"].insert(),
            [{"name": i.name, "value": i.value} for i in seed_items()[:20]],
        )
    engine.dispose()


@contextmanager
def _throwaway_postgres(server_url: str) -> Iterator[URL]:
    """A fresh database on the server, dropped afterwards: the suite never touches others."""
    name = f"sessionbench_micro_{os.getpid()}"
    admin = create_engine(
        make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def urls(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(sync URL, async URL) of a database with the targets' schema and a few rows."""
    if database == "sqlite":
        path: Path = tmp_path_factory.mktemp("micro") / "micro.db"
        _create_schema(f"sqlite:///{path}")
        yield f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}"
        return
    if database == "postgres":
        server = os.environ.get("SESSIONBENCH_POSTGRES_URL")
        if not server:
            pytest.skip("SESSIONBENCH_POSTGRES_URL is not set")
        with _throwaway_postgres(server) as url:
            sync = url.set(drivername="postgresql+psycopg")
            _create_schema(sync)
            yield (
                sync.render_as_string(hide_password=False),
                url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
            )
        return
    raise pytest.UsageError(f"unknown micro-benchmark database {database!r}: sqlite, postgres")
