"""SQLite: the embedded default; one file per cell in the run's temp dir."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL


class SqliteServer:
    backend = "sqlite"
    server_version = sqlite3.sqlite_version

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.description = "SQLite file in a temp dir"

    @contextmanager
    def fresh_database(self, cell_id: str) -> Iterator[URL]:
        path = self.workdir / f"{cell_id}.db"
        try:
            yield URL.create("sqlite", database=str(path))
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextmanager
def open_sqlite(workdir: Path) -> Iterator[SqliteServer]:
    yield SqliteServer(workdir)
