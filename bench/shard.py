"""Splitting a matrix into shards that run apart (`run --shard I/N`), and its identity.

The split is a pure function of the cells and the repeat count, so every machine given
the same options computes the same shards without talking to the others.  A cell and
its repeats stay in one shard (the gate compares a cell's repeats, which should share a
machine).  Shards are balanced by expected time: the longest cells are placed first,
each on the shard with the least time so far (LPT scheduling, within 4/3 of the best).
"""

import hashlib
import json
import re
from dataclasses import asdict

from sessionbench.errors import UsageError
from sessionbench.results import Shard

from .matrix import Cell

MAX_SHARDS = 1000
# Time a run of a cell takes beyond its load: a fresh database and its migrations, the
# target's start, Locust's start and stop, the quiesce and the final checks.  Measured
# here as wall_s - duration_s of SQLite cells: 2.3 s with one Locust process, 5.2 s with
# two workers (the same for every cell of a run, so it does not move the balance).
RUN_OVERHEAD_S = 3.0


def parse_shard(text: str) -> Shard:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f"invalid shard {text!r}: use INDEX/COUNT, e.g. 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise UsageError(
            f"invalid shard {text!r}: COUNT must be 1 to {MAX_SHARDS} and INDEX 1 to COUNT"
        )
    return Shard(index=index, count=count)


def expected_s(cell: Cell, repeat: int) -> float:
    return repeat * (cell.duration_s + RUN_OVERHEAD_S)


def split(cells: list[Cell], repeat: int, count: int) -> list[list[Cell]]:
    """The cells of each of `count` shards, each in the matrix's order."""
    loads = [0.0] * count
    owner: dict[int, int] = {}
    longest_first = sorted(range(len(cells)), key=lambda i: (-expected_s(cells[i], repeat), i))
    for i in longest_first:
        shard = min(range(count), key=lambda s: (loads[s], s))
        owner[i] = shard
        loads[shard] += expected_s(cells[i], repeat)
    return [[cell for i, cell in enumerate(cells) if owner[i] == s] for s in range(count)]


def select(cells: list[Cell], repeat: int, shard: Shard) -> list[Cell]:
    return split(cells, repeat, shard.count)[shard.index - 1]


def _describe(cell: Cell) -> dict[str, object]:
    return {
        "id": cell.id,
        "pool": cell.pool.model_dump(mode="json"),
        "scenario": asdict(cell.scenario),
        "users": cell.users,
        "duration_s": cell.duration_s,
        "added_delay_ms": cell.added_delay_ms,
        "probes": cell.probes,
        "workers": cell.workers.total if cell.workers else 0,
    }


def identity(cells: list[Cell], repeat: int) -> str:
    """A hash of the whole matrix (every cell, with what it is run with, and the repeat
    count): the same options give the same identity on any machine."""
    document = {"cells": [_describe(cell) for cell in cells], "repeat": repeat}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
