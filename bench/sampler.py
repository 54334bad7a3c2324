"""Sampling a running target during load: its probe endpoint, and the database's view.

A background thread polls `GET /_sessionbench/probe` every `SAMPLE_PERIOD_S` and, on
Postgres, counts the target's server connections in `pg_stat_activity` (by the
`application_name` the target connects with).  The samples form the time series of a
cell; a slow answer from a blocked loop is itself part of the picture, so polls have a
generous timeout and a missed poll is simply skipped.
"""

import threading
import time
from typing import Any, Protocol

import httpx
import psutil
import psycopg
from pydantic import ValidationError
from sqlalchemy import URL

from sessionbench.reading import ProbeReading
from sessionbench.results import Sample, Stall
from sessionbench.targets.probes import PROBE_PATH

SAMPLE_PERIOD_S = 0.5
PROBE_TIMEOUT_S = 10.0

SERVER_CONNECTIONS_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE state = 'idle in transaction'),
       coalesce(max(extract(epoch FROM now() - xact_start))
                FILTER (WHERE state = 'idle in transaction'), 0)
FROM pg_stat_activity WHERE application_name = %s
"""

CLIENT_PORTS_SQL = """
SELECT client_port FROM pg_stat_activity
WHERE application_name = %s AND client_port IS NOT NULL
"""


class ServerView:
    """The database server's own count of a target's connections (Postgres only)."""

    def __init__(self, admin_url: URL | None, application_name: str) -> None:
        self.application_name = application_name
        self._conninfo = (
            admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
            if admin_url is not None and admin_url.get_backend_name() == "postgresql"
            else None
        )
        self._conn: psycopg.Connection[Any] | None = None

    def read(self) -> tuple[int, int, float] | None:
        """(connections, idle in transaction, oldest idle-in-transaction age in s)."""
        rows = self._query(SERVER_CONNECTIONS_SQL)
        return (int(rows[0][0]), int(rows[0][1]), float(rows[0][2])) if rows else None

    def client_ports(self) -> list[int]:
        """The client ports of the target's connections, as the server sees them."""
        return [int(row[0]) for row in self._query(CLIENT_PORTS_SQL) or []]

    def _query(self, sql: str) -> list[tuple[Any, ...]] | None:
        """None when not on Postgres or the server did not answer."""
        if self._conninfo is None:
            return None
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            return self._conn.execute(sql, (self.application_name,)).fetchall()
        except psycopg.Error:
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class StallLog:
    """Every stall the probe reported, fetched incrementally; identical stacks kept once."""

    def __init__(self) -> None:
        self.stalls: list[Stall] = []
        self.stacks: list[list[str]] = []
        self.missed = 0  # details the probe's buffer dropped before they were fetched
        self.next_seq = 0
        self._stack_ids: dict[tuple[str, ...], int] = {}

    def add(self, reading: ProbeReading) -> None:
        for stall in reading.stalls:
            if stall.seq < self.next_seq:
                continue
            self.missed += stall.seq - self.next_seq
            self.stalls.append(
                Stall(
                    at_s=stall.at_s,
                    duration_ms=stall.duration_ms,
                    cause=stall.cause,
                    stack=self._stack_id(stall.stack) if stall.stack else None,
                    app_frame=stall.app_frame,
                    route=stall.route,
                )
            )
            self.next_seq = stall.seq + 1
        self.missed += max(0, reading.next_stall - self.next_seq)
        self.next_seq = max(self.next_seq, reading.next_stall)

    def absorb(self, other: "StallLog", worker: int) -> None:
        """Another worker process's stalls, tagged with its pid, stacks kept once."""
        for stall in other.stalls:
            stack = other.stacks[stall.stack] if stall.stack is not None else None
            self.stalls.append(
                stall.model_copy(
                    update={"worker": worker, "stack": self._stack_id(stack) if stack else None}
                )
            )
        self.missed += other.missed

    def _stack_id(self, stack: list[str]) -> int:
        key = tuple(stack)
        if key not in self._stack_ids:
            self._stack_ids[key] = len(self.stacks)
            self.stacks.append(stack)
        return self._stack_ids[key]


class ProbeSource(Protocol):
    """A target's probes: one process's (`ProbeClient`) or several workers' summed."""

    @property
    def stall_log(self) -> StallLog: ...

    def read(self, final: bool = False) -> ProbeReading | None: ...

    def close(self) -> None: ...


class ProbeClient:
    """Reads a target's probes; each reading brings the stalls since the previous one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stall_log = StallLog()
        self._client = httpx.Client(timeout=PROBE_TIMEOUT_S)

    def read(self, final: bool = False) -> ProbeReading | None:
        """None when the target did not answer (a blocked loop answers late or not at all)."""
        params = {"final": final, "since": self.stall_log.next_seq}
        try:
            response = self._client.get(f"{self.base_url}{PROBE_PATH}", params=params)
            if response.status_code != 200:
                return None
            reading = ProbeReading.model_validate_json(response.content)
        except (httpx.HTTPError, ValidationError):
            return None
        self.stall_log.add(reading)
        return reading

    def close(self) -> None:
        self._client.close()


def to_sample(t_s: float, reading: ProbeReading, server: tuple[int, int, float] | None) -> Sample:
    pool, threads = reading.pool, reading.threadpool
    return Sample(
        t_s=round(t_s, 3),
        loop_lag_max_ms=reading.loop.lag.window_max_ms,
        pool_checked_out=pool.checked_out,
        pool_overflow=pool.overflow,
        connections_opened=pool.connections_opened,
        sessions_open=pool.sessions_alive,
        threadpool_borrowed=threads.borrowed,
        server_connections=server[0] if server else None,
        idle_in_transaction=server[1] if server else None,
    )


def process_tree_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process and its children so far (None: no such
    process).  A child that exits in between takes its share with it."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


class Sampler:
    """Samples while load runs; with target pids, also the target's CPU over that time
    (every worker process's, under several)."""

    def __init__(
        self, probes: ProbeSource, server: ServerView, target_pids: tuple[int, ...] = ()
    ) -> None:
        self.probes = probes
        self.server = server
        self.target_pids = tuple(pid for pid in target_pids if pid)  # 0: not our child
        self.target_cpu_s: float | None = None
        self._cpu_before: float | None = None
        self.samples: list[Sample] = []
        self.idle_in_transaction_max_age_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sessionbench-sampler", daemon=True)
        self._started = 0.0

    def __enter__(self) -> "Sampler":
        self._started = time.monotonic()
        self._cpu_before = self._target_cpu_s()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=PROBE_TIMEOUT_S + 1)
        after = self._target_cpu_s()
        if after is not None and self._cpu_before is not None:
            self.target_cpu_s = round(after - self._cpu_before, 3)

    def _target_cpu_s(self) -> float | None:
        times = [process_tree_cpu_s(pid) for pid in self.target_pids]
        if not times or None in times:
            return None
        return sum(t for t in times if t is not None)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_PERIOD_S):
            reading = self.probes.read()
            server = self.server.read()
            if server:
                self.idle_in_transaction_max_age_s = max(
                    self.idle_in_transaction_max_age_s, server[2]
                )
            if reading is not None:
                self.samples.append(to_sample(time.monotonic() - self._started, reading, server))
