"""PgBouncer for real: `async-session` with its own pool and asyncpg's statement cache
fails behind transaction pooling and gets the verdict; its twin with the documented
fixes (no statement cache, unique statement names, NullPool) answers every request and
gets none; PgBouncer is gone afterwards, even after a SIGKILL of the harness.  A server
that wants a password is reached through PgBouncer too."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy import make_url

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.databases.pgbouncer import open_pgbouncer
from sessionbench.bench.databases.postgres import conninfo
from sessionbench.bench.leftovers import reap_temp_dirs
from sessionbench.bench.matrix import expand
from sessionbench.bench.processes import ChildProcesses
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pgbouncer") is None, reason="pgbouncer is not installed"),
]

# strategy, pool variant, expected diagnoses
TRUTH = [
    ("async-session", "default", {"pooler-prepared-statements"}),
    ("async-session-pooler", "pooler", set()),
]
DURATION_S = 4


def _our_pgbouncers() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "pgbouncer" and "sessionbench-pgbouncer-" in cmdline:
            found.append(proc)
    return found


def test_the_failing_target_and_its_fixed_twin(tmp_path: Path, postgres_url: str) -> None:
    before = {p.pid for p in _our_pgbouncers()}
    registry, crud = strategies(), load_scenarios().get("crud")
    cells = [
        cell
        for strategy, pool, _ in TRUTH
        for cell in expand(
            [registry.get(strategy)], [DATABASES.get("pgbouncer")], [POOLS.get(pool)], [crud],
            duration_s=DURATION_S, users=8,
        )
    ]  # fmt: skip
    result = execute(RunPlan(cells, tmp_path, ProvisionOptions(postgres_url=postgres_url)))
    assert not result.skipped, result.skipped
    assert "PgBouncer" in result.environment.database_servers["pgbouncer"]
    bad, fixed = result.cells
    assert bad.status == fixed.status == "ok", (bad.error, fixed.error)
    # The app went through PgBouncer, not to the server's own port.
    assert make_url(bad.config.database_url).port != make_url(postgres_url).port
    for cell, (_, _, expected) in zip(result.cells, TRUTH, strict=True):
        got = {f.kind for f in cell.findings if f.severity != "info"}
        assert got == expected, [f.summary for f in cell.findings]
    verdict = next(f for f in bad.findings if f.kind == "pooler-prepared-statements")
    assert "prepared statement" in str(verdict.evidence["server_error"])
    assert fixed.load is not None and fixed.load.failures == 0
    # The harness's checks went to Postgres directly and saw the twin's writes.
    assert fixed.checks is not None and fixed.checks.acknowledged_writes > 0
    assert fixed.checks.missing_writes == 0
    assert {p.pid for p in _our_pgbouncers()} <= before


def test_a_server_that_wants_a_password_is_reached_through_pgbouncer(
    tmp_path: Path, password_postgres: str
) -> None:
    with ChildProcesses() as children:
        with open_pgbouncer(password_postgres, children, tmp_path) as server:
            through = server.app_url(server.postgres.admin_url)
            assert through.port == server.port and through.password
            with psycopg.connect(conninfo(through)) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            pids = [p.pid for p in _our_pgbouncers()]
            assert pids
        assert not [p for p in _our_pgbouncers() if p.pid in pids]


def test_pgbouncer_dies_with_a_killed_harness(tmp_path: Path, postgres_url: str) -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "sessionbench", "run", "-s", "async-session-pooler", "--pool",
         "pooler", "--db", "pgbouncer", "--scenario", "crud", "--duration", "6s", "--users",
         "2", "--output", str(tmp_path)],
        env={**os.environ, "SESSIONBENCH_POSTGRES_URL": postgres_url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline, ours = time.monotonic() + 60, []
        while time.monotonic() < deadline and not ours and cli.poll() is None:
            children = psutil.Process(cli.pid).children(recursive=True)
            ours = [p for p in children if p.name() == "pgbouncer"]
            time.sleep(0.1)
        assert ours, "pgbouncer never started"
    finally:
        cli.send_signal(signal.SIGKILL)
        cli.wait()
    _, alive = psutil.wait_procs(ours, timeout=10)
    assert not alive, alive
    reap_temp_dirs()  # what the killed run left, as the next run would
