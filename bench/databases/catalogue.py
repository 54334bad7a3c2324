"""The database kinds a run can use, and how each is provisioned."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL

from sessionbench.registry import Registry

from ..processes import ChildProcesses
from .base import DatabaseServer
from .given import GivenDatabase, NoDatabase
from .mysql import open_mysql
from .pgbouncer import open_pgbouncer
from .postgres import open_postgres
from .sqlite import open_sqlite


@dataclass(frozen=True)
class DatabaseKind:
    name: str
    backend: str  # SQLAlchemy backend name
    description: str


DATABASES: Registry[DatabaseKind] = Registry("database")
DATABASES.add(
    DatabaseKind(
        "sqlite", "sqlite", "embedded default: a SQLite file per cell (pysqlite / aiosqlite)"
    )
)
DATABASES.add(
    DatabaseKind(
        "postgres",
        "postgresql",
        "Postgres: --postgres-url, testcontainers or local binaries (psycopg; asyncpg or psycopg)",
    )
)
DATABASES.add(
    DatabaseKind(
        "pgbouncer",
        "postgresql",
        "Postgres as --db postgres finds it, the app through PgBouncer (pool_mode=transaction)",
    )
)
DATABASES.add(
    DatabaseKind(
        "mysql", "mysql", "MySQL/MariaDB: --mysql-url or testcontainers (pymysql; aiomysql)"
    )
)


@dataclass(frozen=True)
class ProvisionOptions:
    postgres_url: str | None = None
    mysql_url: str | None = None
    given_url: URL | None = None  # used verbatim, never created or dropped (`--database-url`)
    no_database: bool = False  # the app runs elsewhere (`--target-url` without a URL)


@contextmanager
def open_database(
    name: str, options: ProvisionOptions, children: ChildProcesses, workdir: Path
) -> Iterator[DatabaseServer]:
    if options.given_url is not None:
        yield GivenDatabase(options.given_url)
    elif options.no_database:
        yield NoDatabase()
    elif name == "sqlite":
        with open_sqlite(workdir) as sqlite_server:
            yield sqlite_server
    elif name == "pgbouncer":
        with open_pgbouncer(options.postgres_url, children, workdir) as pgbouncer_server:
            yield pgbouncer_server
    elif name == "mysql":
        with open_mysql(options.mysql_url) as mysql_server:
            yield mysql_server
    else:
        with open_postgres(options.postgres_url, children, workdir) as postgres_server:
            yield postgres_server
