"""MySQL or MariaDB: a server found through a URL, else testcontainers, else skipped.

The order is the user's explicit choice first (`--mysql-url` or SESSIONBENCH_MYSQL_URL),
then a container when a Docker engine answers; there is no throwaway local server, so
when neither works the database is skipped with one line giving each reason.  Every
cell gets its own database (`CREATE DATABASE` / `DROP DATABASE`), whose name also tells
the target's connections apart in the server's process list.
"""

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pymysql
from sqlalchemy import URL

from sessionbench.errors import InfrastructureError, UsageError

from ..urls import mask, parse_url
from .base import DatabaseUnavailable, ProviderAttempts, first_line
from .containers import DockerUnavailable, mysql_container

URL_ENV = "SESSIONBENCH_MYSQL_URL"
CONNECT_TIMEOUT_S = 5


def _connect_kwargs(url: URL) -> dict[str, Any]:
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 3306,
        "user": url.username or "root",
        "password": url.password or "",
        "connect_timeout": CONNECT_TIMEOUT_S,
        "autocommit": True,
    }


class MysqlServer:
    backend = "mysql"

    def __init__(
        self, admin_url: URL, description: str, restart: Callable[[], None] | None = None
    ) -> None:
        self.admin_url = admin_url
        self.description = description
        self.restart = restart  # None: a server sessionbench did not start, never restarted
        try:
            self.server_version = self._admin("SELECT VERSION()")
        except pymysql.Error as exc:
            raise DatabaseUnavailable(
                f"mysql skipped: cannot connect at {mask(admin_url)}: {first_line(exc)}"
            ) from None

    def _admin(self, statement: str) -> str:
        with pymysql.connect(**_connect_kwargs(self.admin_url)) as conn, conn.cursor() as cur:
            cur.execute(statement)
            row = cur.fetchone()
        return str(row[0]) if row else ""

    def kill_connections(self, database: str) -> int:
        """Fault `terminate`: KILL the connections using the cell's fresh database (only
        the target's use it), never this admin connection or any other."""
        killed = 0
        with pymysql.connect(**_connect_kwargs(self.admin_url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE DB = %s AND ID <> CONNECTION_ID()",
                (database,),
            )
            for (thread_id,) in cur.fetchall():
                try:
                    cur.execute(f"KILL {int(thread_id)}")
                    killed += 1
                except pymysql.err.OperationalError:  # it ended meanwhile (unknown thread id)
                    continue
        return killed

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        name = f"sessionbench_{secrets.token_hex(4)}"
        try:
            self._admin(f"CREATE DATABASE `{name}`")
        except pymysql.Error as exc:
            raise InfrastructureError(
                f"cannot create a database on {mask(self.admin_url)} "
                f"(the user needs CREATE): {first_line(exc)}"
            ) from None
        try:
            yield self.admin_url.set(database=name)
        finally:
            self._admin(f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def open_mysql(url: str | None) -> Iterator[MysqlServer]:
    url = url or os.environ.get(URL_ENV)
    if url:
        parsed = parse_url(url)
        if parsed.get_backend_name() != "mysql":
            raise UsageError(f"not a MySQL/MariaDB URL: {mask(parsed)} (use mysql://...)")
        yield MysqlServer(parsed, f"MySQL/MariaDB at {mask(parsed)}")
        return
    attempts = ProviderAttempts()
    with ExitStack() as stack:
        try:
            started = stack.enter_context(mysql_container())
        except DockerUnavailable as exc:
            attempts.note("testcontainers", str(exc))
            raise attempts.unavailable("mysql") from None
        yield MysqlServer(
            started.url, "MySQL/MariaDB in a testcontainers container", started.restart
        )
