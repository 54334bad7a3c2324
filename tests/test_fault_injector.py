"""The fault injector's timing and refusals, without a database: a fake server records
the restart, and the load's window start is written by the test as the locustfile would."""

import json
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import URL, make_url

from sessionbench.bench.fault_injection import FaultInjector, check_server
from sessionbench.errors import CellSkipped
from sessionbench.scenarios.faults import Fault

DATABASE = make_url("postgresql://u@h/sessionbench_x")


class FakeServer:
    backend = "postgresql"
    description = "a fake server"
    server_version = "0"

    def __init__(self, restartable: bool) -> None:
        self.restarts: list[float] = []
        self.restart = (lambda: self.restarts.append(time.monotonic())) if restartable else None

    def fresh_database(self, cell_id: str) -> AbstractContextManager[URL]:
        raise NotImplementedError  # no cell runs here


def test_a_restart_is_injected_at_its_fraction_of_the_window(tmp_path: Path) -> None:
    server = FakeServer(restartable=True)
    injector = FaultInjector(Fault("restart", at=0.5), server, DATABASE, "app", tmp_path, 0.4)
    with injector:
        start = time.monotonic()
        (tmp_path / "window_start.json").write_text(json.dumps(start))
        time.sleep(0.4)
    assert len(server.restarts) == 1
    assert server.restarts[0] - start == pytest.approx(0.2, abs=0.05)
    assert injector.injection.injected_at_s == pytest.approx(0.2, abs=0.05)
    assert injector.injection.note == ""


def test_load_that_never_started_leaves_a_note(tmp_path: Path) -> None:
    server = FakeServer(restartable=True)
    with FaultInjector(
        Fault("restart", at=0.5), server, DATABASE, "app", tmp_path, 1.0
    ) as injector:
        pass
    assert server.restarts == [] and injector.injection.note == "not injected: load never started"


def test_a_server_not_started_by_sessionbench_is_never_restarted() -> None:
    with pytest.raises(CellSkipped, match="a fake server was not started by sessionbench"):
        check_server(Fault("restart", at=0.5), FakeServer(restartable=False))
    check_server(Fault("terminate", at=0.5), FakeServer(restartable=False))
