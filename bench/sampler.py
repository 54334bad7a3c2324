"""Sampling a running target during load: its probe endpoint, and the database's view.

A background thread polls `GET /_sessionbench/probe` every `SAMPLE_PERIOD_S` and, on
Postgres, counts the target's server connections in `pg_stat_activity` (by the
`application_name` the target connects with).  The samples form the time series of a
cell; a slow answer from a blocked loop is itself part of the picture, so polls have a
generous timeout and a missed poll is simply skipped.
"""

import threading
import time
from typing import Any

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
        if self._conninfo is None:
            return None
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            row = self._conn.execute(SERVER_CONNECTIONS_SQL, (self.application_name,)).fetchone()
        except psycopg.Error:
            self.close()
            return None
        return (int(row[0]), int(row[1]), float(row[2])) if row else None

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

    def _stack_id(self, stack: list[str]) -> int:
        key = tuple(stack)
        if key not in self._stack_ids:
            self._stack_ids[key] = len(self.stacks)
            self.stacks.append(stack)
        return self._stack_ids[key]


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
    """Samples while load runs; with `target_pid`, also the target's CPU over that time."""

    def __init__(self, probes: ProbeClient, server: ServerView, target_pid: int = 0) -> None:
        self.probes = probes
        self.server = server
        self.target_pid = target_pid
        self.target_cpu_s: float | None = None
        self._cpu_before: float | None = None
        self.samples: list[Sample] = []
        self.idle_in_transaction_max_age_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sessionbench-sampler", daemon=True)
        self._started = 0.0

    def __enter__(self) -> "Sampler":
        self._started = time.monotonic()
        if self.target_pid:
            self._cpu_before = process_tree_cpu_s(self.target_pid)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=PROBE_TIMEOUT_S + 1)
        after = process_tree_cpu_s(self.target_pid) if self.target_pid else None
        if after is not None and self._cpu_before is not None:
            self.target_cpu_s = round(after - self._cpu_before, 3)

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
