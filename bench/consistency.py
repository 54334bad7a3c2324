"""Did acknowledged writes reach the table, and can a client read its own write?

Both catch a commit that happens after the response: the acknowledged ids come from
the load generator (every id POST /items answered with); the read-your-write probe
posts a row and immediately reads it back on a different connection.
"""

import json
from pathlib import Path

import httpx
from sqlalchemy import URL, create_engine, select
from sqlalchemy.orm import Session

from sessionbench.targets.models import Item

from .urls import driver_for, with_driver

READ_YOUR_WRITE_PROBES = 20


def acknowledged_ids(ack_file: Path) -> list[int]:
    try:
        return [int(i) for i in json.loads(ack_file.read_text())]
    except (OSError, ValueError):
        return []


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


def read_your_write(base_url: str, probes: int = READ_YOUR_WRITE_PROBES) -> tuple[int, int]:
    """(probes made, reads that missed the row just written)."""
    made = misses = 0
    with httpx.Client(base_url=base_url, timeout=10) as writer:
        for _ in range(probes):
            try:
                written = writer.post("/items", json={"name": "read-your-write"})
                if written.status_code != 200:
                    continue
                # A fresh client: another connection, as a second browser tab would be.
                with httpx.Client(base_url=base_url, timeout=10) as reader:
                    read = reader.get(f"/items/{written.json()['id']}")
            except httpx.HTTPError:
                continue
            made += 1
            misses += read.status_code == 404
    return made, misses
