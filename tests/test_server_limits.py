"""The server's connection limit, read as a sweep reads it: from a fresh database."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL
from sqlalchemy.engine import make_url

from sessionbench.bench.server_limits import read_limits


class Server:
    """A provisioned server whose fresh database is the URL given."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend, self.url = backend, url
        self.description = self.server_version = ""

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        yield make_url(self.url)


def test_sqlite_has_no_limit_and_says_so() -> None:
    limits = read_limits(Server("sqlite", "sqlite:///unused.db"))
    assert limits.available is None and limits.note.startswith("not applicable")


def test_an_unreachable_server_is_recorded_with_the_reason() -> None:
    limits = read_limits(Server("postgresql", "postgresql://u@127.0.0.1:1/x"))
    assert limits.available is None
    assert limits.note.startswith("could not read max_connections: ")


def test_postgres_reserves_the_superuser_slots(postgres_url: str) -> None:
    limits = read_limits(Server("postgresql", postgres_url))
    assert limits.max_connections and limits.reserved_connections >= 1
    assert limits.available == limits.max_connections - limits.reserved_connections


def test_mysql_reads_max_connections(mysql_url: str) -> None:
    limits = read_limits(Server("mysql", mysql_url))
    assert limits.max_connections and limits.available == limits.max_connections
