"""The database server's connection limit, read from the server a sweep runs against.

Postgres: `max_connections` less `superuser_reserved_connections` and, from 16 on,
`reserved_connections`.  MySQL and MariaDB: `max_connections` (both admit one more
connection for an administrator beyond it, so nothing is reserved from it).  SQLite
has no server and no limit.
"""

from sqlalchemy import URL, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from sessionbench.errors import InfrastructureError
from sessionbench.sweep_record import ServerLimits

from .databases.base import DatabaseServer, first_line
from .urls import driver_for, with_driver

POSTGRES_SETTINGS = """
SELECT name, setting::int FROM pg_settings
WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')
"""
MYSQL_SETTINGS = "SHOW VARIABLES WHERE Variable_name = 'max_connections'"


def _settings(url: URL, query: str) -> dict[str, int]:
    engine = create_engine(with_driver(url, driver_for(url.get_backend_name(), "sync")))
    try:
        with engine.connect() as conn:
            return {str(name): int(value) for name, value in conn.execute(text(query))}
    finally:
        engine.dispose()


def _from_settings(backend: str, settings: dict[str, int]) -> ServerLimits:
    if backend == "postgresql":
        reserved = settings.get("superuser_reserved_connections", 0) + settings.get(
            "reserved_connections", 0
        )
        note = "pg_settings: max_connections, superuser_reserved_connections" + (
            ", reserved_connections" if "reserved_connections" in settings else ""
        )
    else:
        reserved, note = 0, "SHOW VARIABLES: max_connections"
    return ServerLimits(
        backend=backend,
        max_connections=settings["max_connections"],
        reserved_connections=reserved,
        note=note,
    )


def read_limits(server: DatabaseServer) -> ServerLimits:
    """Never raises: a limit that cannot be read is recorded with the reason."""
    if server.backend == "sqlite":
        return ServerLimits(
            backend="sqlite", note="not applicable: SQLite has no server and no connection limit"
        )
    query = POSTGRES_SETTINGS if server.backend == "postgresql" else MYSQL_SETTINGS
    try:
        with server.fresh_database("sweep-limits") as url:
            return _from_settings(server.backend, _settings(url, query))
    except (SQLAlchemyError, InfrastructureError, KeyError) as exc:
        return ServerLimits(
            backend=server.backend, note=f"could not read max_connections: {first_line(exc)}"
        )


def usable_connections(url: URL) -> int | None:
    """The connections an application role may open, read through a cell's own database
    (`run` records it per cell); None for SQLite or when it cannot be read."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return None
    query = POSTGRES_SETTINGS if backend == "postgresql" else MYSQL_SETTINGS
    try:
        return _from_settings(backend, _settings(url, query)).available
    except (SQLAlchemyError, KeyError):
        return None
