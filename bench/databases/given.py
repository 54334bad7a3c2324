"""A database the user names verbatim (`run --app ... --database-url URL`), or none at all
(`run --target-url` without one: the app runs elsewhere with its own database).

A given database is used as it is: nothing is created or dropped, and the URL keeps the
driver the user wrote, since it is handed to the user's app unchanged.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import URL

from sessionbench.errors import CellError


class GivenDatabase:
    server_version = "given"  # not asked: the server may refuse anything but the app's work

    def __init__(self, url: URL) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.description = "the database URL given"

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        yield self.url


class NoDatabase:
    backend = "none"
    server_version = "none"
    description = "no database: the app runs elsewhere"

    def fresh_database(self, cell_id: str) -> AbstractContextManager[URL]:
        raise CellError("no database to provision: the app runs elsewhere")
