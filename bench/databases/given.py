"""A database the user names verbatim (`run --app ... --database-url URL`).

Used as it is: no database is created or dropped, and the URL keeps the driver the user
wrote, since it is handed to the user's app unchanged.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL


class GivenDatabase:
    server_version = "given"  # not asked: the server may refuse anything but the app's work

    def __init__(self, url: URL) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.description = "the database URL given"

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        yield self.url
