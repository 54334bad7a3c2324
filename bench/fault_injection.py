"""Injecting a scenario's server-side fault into a cell, at its moment of the load window.

Only the cell's own things are touched: the target's connections to its fresh database
(terminate), that database's settings (idle-timeout), and servers sessionbench started
itself (restart).  A shared server given by URL is never restarted and never has a
global setting changed.
"""

import json
import threading
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import URL

from sessionbench.errors import CellSkipped, UsageError
from sessionbench.results import FaultResult
from sessionbench.scenarios.faults import SERVER_SIDE, Fault

from .databases.base import DatabaseServer, first_line
from .databases.mysql import MysqlServer
from .databases.postgres import PostgresServer
from .loadgen import ledger_path
from .matrix import Cell
from .recovery import Injection, read_timeline, recovery

WINDOW_START_ENV = "SESSIONBENCH_WINDOW_START_FILE"
# Locust's start-up (imports, spawning users) takes seconds on a busy machine; past
# this the load is not coming and the fault is not injected.
WINDOW_START_WAIT_S = 60.0
POLL_S = 0.02


def unsupported(fault: Fault, backend: str) -> str | None:
    """Why a database kind cannot take this fault at all (bad input: exit 2), or None."""
    if backend == "sqlite":
        return f"fault {fault.kind} needs a database server; sqlite has none (use --db postgres)"
    if fault.kind == "idle-timeout" and backend == "mysql":
        return (
            "fault idle-timeout: MySQL/MariaDB set wait_timeout for the whole server or one "
            "session, never for one database, and sessionbench never changes a shared "
            "server's global settings; run it with --db postgres"
        )
    return None


def server_fault(cell: Cell) -> Fault | None:
    """The cell's fault when it is one the harness injects on the server side."""
    fault = cell.scenario.fault
    return fault if fault is not None and fault.kind in SERVER_SIDE else None


def check_cells(cells: list[Cell]) -> None:
    """Refuse, in one line, a matrix with a fault some cell cannot take."""
    for cell in cells:
        fault = server_fault(cell)
        if fault is None:
            continue
        where = f"scenario {cell.scenario.name!r}"
        reason = unsupported(fault, cell.database.backend)
        if reason:
            raise UsageError(f"{where}: {reason}")
        if cell.rate or cell.workers:
            raise UsageError(
                f"{where}: faults run in the closed model in one Locust process "
                "(leave out --rate and --workers)"
            )


def check_server(fault: Fault, server: DatabaseServer) -> None:
    """A restart needs a server sessionbench started; a shared one skips the cell."""
    if fault.kind == "restart" and getattr(server, "restart", None) is None:
        raise CellSkipped(
            f"fault restart: {server.description} was not started by sessionbench and is "
            "never restarted (restarts run on the throwaway local cluster or a container)"
        )


def prepare_database(fault: Fault | None, server: DatabaseServer, url: URL) -> None:
    """What must be set before the target connects (idle-timeout)."""
    if fault is not None and fault.kind == "idle-timeout" and isinstance(server, PostgresServer):
        server.set_idle_timeout(str(url.database), fault.idle_timeout_s)


def _inject(fault: Fault, server: DatabaseServer, url: URL, application_name: str) -> int:
    database = str(url.database)
    if fault.kind == "restart":
        restart = getattr(server, "restart", None)
        assert restart is not None  # check_server ran before the target started
        restart()
        return 0
    if isinstance(server, PostgresServer):
        return server.terminate_backends(database, application_name)
    if isinstance(server, MysqlServer):
        return server.kill_connections(database)
    raise UsageError(f"fault {fault.kind}: not possible on {server.description}")


class FaultInjector:
    """Injects the fault from a thread while load runs; `injection` says what happened."""

    def __init__(
        self,
        fault: Fault,
        server: DatabaseServer,
        url: URL,
        application_name: str,
        workdir: Path,
        run_time_s: float,
    ) -> None:
        self.fault, self.server, self.url = fault, server, url
        self.application_name = application_name
        self.workdir = workdir
        self.start_file = workdir / "window_start.json"
        self.run_time_s = run_time_s
        self.injection = Injection()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-injector", daemon=True)

    def env(self) -> dict[str, str]:
        return {WINDOW_START_ENV: str(self.start_file)}

    def recovery(self, window_s: float) -> FaultResult:
        """After load: what the fault did, from the load generator's timeline."""
        timeline = read_timeline(ledger_path(self.workdir / "locust"))
        return recovery(timeline, self.fault, self.injection, window_s)

    def __enter__(self) -> "FaultInjector":
        self.start_file.unlink(missing_ok=True)  # an earlier run's, in the same directory
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _window_start(self) -> float | None:
        deadline = time.monotonic() + WINDOW_START_WAIT_S
        while time.monotonic() < deadline:
            try:
                return float(json.loads(self.start_file.read_text()))
            except (OSError, ValueError):
                if self._stop.wait(POLL_S):
                    return None
        return None

    def _run(self) -> None:
        start = self._window_start()  # the locustfile's clock is the system's monotonic one
        fault, injection = self.fault, self.injection
        at_s = fault.at * self.run_time_s
        if start is None:
            injection.note = "not injected: load never started"
            return
        if fault.kind == "idle-timeout":  # set before the target connected
            injection.injected_at_s, injection.hit_at_s = at_s, at_s + fault.pause_s
            return
        if self._stop.wait(max(start + at_s + fault.inject_after_s - time.monotonic(), 0.0)):
            injection.note = "not injected: load ended first"
            return
        began = time.monotonic()
        injection.injected_at_s = round(began - start, 4)
        try:
            injection.affected = _inject(fault, self.server, self.url, self.application_name)
        except Exception as exc:  # any failure is this cell's figure; the run goes on
            injection.note = f"{fault.kind} failed: {first_line(exc)}"
        injection.took_s = round(time.monotonic() - began, 3)
        # The clients meet it at once, or when their pause ends.
        injection.hit_at_s = max(injection.injected_at_s, at_s + fault.pause_s)
