"""Server-side faults on real databases.  The known-bad pool (`default`: no pre-ping)
gets `stale-connections` when the server closes its idle connections under it; its
twin (`pre-ping`) under the same fault gets no diagnosis.  A restart runs on the
throwaway local cluster and in a container, and is refused (the cell skipped) for a
server given by URL."""

from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.results import FaultResult, RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .test_faults import NO_DOCKER

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

STRATEGY = "sync-threadpool"
DURATION_S = 6  # the fault scenarios hit at 30-40 % and need a second of recovery after


def _run(
    output: Path,
    database: str,
    scenario: str,
    pools: list[str],
    duration_s: float = DURATION_S,
    **urls: str,
) -> RunResult:
    cells = expand(
        [strategies().get(STRATEGY)],
        [DATABASES.get(database)],
        [POOLS.get(pool) for pool in pools],
        [load_scenarios().get(scenario)],
        duration_s=duration_s,
    )
    return execute(RunPlan(cells, output, ProvisionOptions(**urls)))


def _diagnoses(result: RunResult) -> dict[str, set[str]]:
    assert not result.skipped and not result.skipped_cells
    assert [c.status for c in result.cells] == ["ok"] * len(result.cells), result.cells
    return {
        c.config.pool.name: {f.kind for f in c.findings if f.severity != "info"}
        for c in result.cells
    }


def _fault(result: RunResult, pool: str) -> FaultResult:
    cell = next(c for c in result.cells if c.config.pool.name == pool)
    assert cell.load is not None and cell.load.fault is not None
    return cell.load.fault


def _stale_error(result: RunResult) -> str:
    finding = next(f for c in result.cells for f in c.findings if f.kind == "stale-connections")
    return str(finding.evidence["error"])


def test_connections_terminated_while_idle_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    result = _run(
        tmp_path, "postgres", "fault-terminate-idle", ["default", "pre-ping"],
        postgres_url=postgres_url,
    )  # fmt: skip
    assert _diagnoses(result) == {"default": {"stale-connections"}, "pre-ping": set()}
    assert "terminating connection due to administrator command" in _stale_error(result)
    for pool in ("default", "pre-ping"):
        fault = _fault(result, pool)
        assert fault.affected >= 1  # the target's idle pooled connections, terminated
        assert fault.time_to_recover_s is not None
    assert _fault(result, "pre-ping").failed == 0


def test_idle_timeout_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    result = _run(
        tmp_path, "postgres", "fault-idle", ["default", "pre-ping"], postgres_url=postgres_url
    )
    assert _diagnoses(result) == {"default": {"stale-connections"}, "pre-ping": set()}
    assert "idle-session timeout" in _stale_error(result)


@pytest.mark.mysql
def test_connections_killed_while_idle_on_mariadb(tmp_path: Path, mysql_url: str) -> None:
    result = _run(
        tmp_path, "mysql", "fault-terminate-idle", ["default", "pre-ping"], mysql_url=mysql_url
    )
    assert _diagnoses(result) == {"default": {"stale-connections"}, "pre-ping": set()}
    assert "Lost connection to MySQL server" in _stale_error(result)


def _check_restart(result: RunResult) -> None:
    _diagnoses(result)  # measured, not skipped
    fault = _fault(result, "default")
    assert fault.note == "" and fault.injected_at_s is not None
    assert fault.took_s > 0.1  # stopped, started, answering again
    assert fault.failed >= 1  # the requests in flight, and those sent while it was down
    assert fault.time_to_recover_s is not None  # back to normal within the window


def test_restart_on_the_throwaway_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSIONBENCH_POSTGRES_URL", raising=False)
    monkeypatch.setenv("DOCKER_HOST", NO_DOCKER["DOCKER_HOST"])
    _check_restart(_run(tmp_path, "postgres", "fault-restart", ["default"]))


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_restart_in_a_container(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSIONBENCH_POSTGRES_URL", raising=False)
    # A container stops and starts in about 2.7 s here (the local cluster in well under
    # one): the run leaves room to recover after it.
    _check_restart(_run(tmp_path, "postgres", "fault-restart", ["default"], duration_s=10))


def test_restart_of_a_given_server_is_skipped_with_the_reason(
    tmp_path: Path, postgres_url: str
) -> None:
    result = _run(tmp_path, "postgres", "fault-restart", ["default"], postgres_url=postgres_url)
    assert result.cells == []
    [skipped] = result.skipped_cells
    assert "was not started by sessionbench and is never restarted" in skipped.reason
