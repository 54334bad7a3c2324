"""Postgres: a server found through a URL, testcontainers or local server binaries.

The order is the user's explicit choice first (`--postgres-url` or
SESSIONBENCH_POSTGRES_URL), then a container when a Docker engine answers, then a
throwaway cluster from local binaries; when none works the database is skipped with one
line giving each provider's reason.
"""

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import URL

from sessionbench.errors import InfrastructureError

from ..processes import ChildProcesses
from ..urls import mask, parse_url, with_driver
from .base import DatabaseUnavailable, ProviderAttempts, first_line
from .containers import DockerUnavailable, postgres_container
from .local_cluster import LocalClusterUnavailable, restartable_cluster

URL_ENV = "SESSIONBENCH_POSTGRES_URL"
CONNECT_TIMEOUT_S = 5


def conninfo(url: URL) -> str:
    return (
        with_driver(url, "psycopg")
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


class PostgresServer:
    backend = "postgresql"

    def __init__(
        self, admin_url: URL, description: str, restart: Callable[[], None] | None = None
    ) -> None:
        self.admin_url = admin_url
        self.description = description
        self.restart = restart  # None: a server sessionbench did not start, never restarted
        try:
            with psycopg.connect(conninfo(admin_url), connect_timeout=CONNECT_TIMEOUT_S) as conn:
                row = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"postgres skipped: cannot connect at {mask(admin_url)}: {first_line(exc)}"
            ) from None
        self.server_version = str(row[0]) if row else "unknown"

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(
            conninfo(self.admin_url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as conn:
            conn.execute(statement)

    def terminate_backends(self, database: str, application_name: str) -> int:
        """Fault `terminate`: close the target's own server connections to its fresh
        database (matched by both names), and no other session."""
        with psycopg.connect(
            conninfo(self.admin_url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                (database, application_name),
            ).fetchone()
        return int(row[0]) if row else 0

    def set_idle_timeout(self, database: str, seconds: float) -> None:
        """Fault `idle-timeout`: sessions of this one database that stay idle longer are
        closed by the server (new sessions only: set before the target connects)."""
        self._admin(
            sql.SQL("ALTER DATABASE {} SET idle_session_timeout = {}").format(
                sql.Identifier(database), sql.Literal(f"{round(seconds * 1000)}ms")
            )
        )

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        name = f"sessionbench_{secrets.token_hex(4)}"
        try:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise InfrastructureError(
                f"cannot create a database on {mask(self.admin_url)} "
                f"(the user needs CREATEDB): {first_line(exc)}"
            ) from None
        try:
            yield self.admin_url.set(database=name)
        finally:
            try:
                self._admin(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            except psycopg.Error as exc:  # the server went away during the cell
                raise InfrastructureError(
                    f"cannot drop database {name} on {mask(self.admin_url)}: {first_line(exc)}"
                ) from None


@contextmanager
def open_postgres(
    url: str | None, children: ChildProcesses, workdir: Path
) -> Iterator[PostgresServer]:
    url = url or os.environ.get(URL_ENV)
    if url:
        parsed = parse_url(url)
        yield PostgresServer(parsed, f"Postgres at {mask(parsed)}")
        return
    attempts = ProviderAttempts()
    with ExitStack() as stack:
        server: PostgresServer | None = None
        try:
            started = stack.enter_context(postgres_container())
            server = PostgresServer(
                started.url, "Postgres in a testcontainers container", started.restart
            )
        except DockerUnavailable as exc:
            attempts.note("testcontainers", str(exc))
        if server is None:
            try:
                started = stack.enter_context(restartable_cluster(children, workdir))
                server = PostgresServer(
                    started.url, "throwaway local Postgres cluster", started.restart
                )
            except LocalClusterUnavailable as exc:
                attempts.note("local binaries", str(exc))
        if server is None:
            raise attempts.unavailable("postgres")
        yield server
