"""Did acknowledged writes reach the table, and can a client read its own write?

Both catch a commit that happens after the response: the acknowledged ids come from
the load generator (every id POST /items answered with); the read-your-write probe
posts a row and immediately reads it back on a different connection, during load.
"""

import json
import threading
from pathlib import Path

import httpx
from sqlalchemy import URL, create_engine, select
from sqlalchemy.orm import Session

from sessionbench.targets.models import Item

from .urls import driver_for, with_driver
from .workers import worker_files

PROBE_PAUSE_S = 0.05
PROBE_TIMEOUT_S = 5.0


def acknowledged_ids(ack_file: Path) -> list[int]:
    """The ids in `ack_file` and, with Locust workers, in each worker's own file."""
    ids = []
    for path in [ack_file, *worker_files(ack_file)]:
        try:
            ids += [int(i) for i in json.loads(path.read_text())]
        except (OSError, ValueError):
            continue
    return ids


def missing_ids(url: URL, ids: list[int]) -> int:
    if not ids:
        return 0
    engine = create_engine(with_driver(url, driver_for(url.get_backend_name(), "sync")))
    try:
        with Session(engine) as db:
            found = set(db.scalars(select(Item.id).where(Item.id.in_(ids))))
    finally:
        engine.dispose()
    return len(set(ids) - found)


class ReadYourWrite:
    """During load, over and over: POST a row, then at once GET it on another connection.

    Both clients keep their connection open, so the read leaves the moment the write's
    answer arrives; under load, a commit that runs after the response often loses that
    race.  Runs in a thread while load is applied, paced so it adds little load itself.
    """

    def __init__(self, base_url: str, enabled: bool = True) -> None:
        self.base_url = base_url
        self.enabled = enabled
        self.probes = 0
        self.misses = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sessionbench-ryw", daemon=True)

    def __enter__(self) -> "ReadYourWrite":
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join(timeout=PROBE_TIMEOUT_S + 1)

    def _run(self) -> None:
        with (
            httpx.Client(base_url=self.base_url, timeout=PROBE_TIMEOUT_S) as writer,
            httpx.Client(base_url=self.base_url, timeout=PROBE_TIMEOUT_S) as reader,
        ):
            while not self._stop.wait(PROBE_PAUSE_S):
                try:
                    written = writer.post("/items", json={"name": "read-your-write"})
                    if written.status_code != 200:
                        continue
                    read = reader.get(f"/items/{written.json()['id']}")
                except httpx.HTTPError:
                    continue
                self.probes += 1
                self.misses += read.status_code == 404
