"""PgBouncer without the harness's load: the verdict on synthetic evidence (fires behind
a transaction pooler on the server's prepared-statement errors; other errors, or the
same errors without a pooler, do not), its config, and a missing binary."""

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import make_url

from sessionbench.bench.databases.catalogue import DATABASES
from sessionbench.bench.databases.pgbouncer import write_config
from sessionbench.bench.diagnosis import CellEvidence, findings_from
from sessionbench.bench.diagnosis.evidence import TRANSACTION_POOLERS
from sessionbench.bench.diagnosis.rules import connection_churn, pooler_prepared_statements
from sessionbench.reading import PoolReading
from sessionbench.results import FailureKind
from sessionbench.targets.async_session_pooler import pooler_safe
from sessionbench.targets.config import TargetConfig
from sessionbench.targets.pools import POOLS

from .test_cli import assert_one_line
from .test_rules import evidence

POOLER = TRANSACTION_POOLERS["pgbouncer"]
MISSING = (
    'HTTP 500: DBAPIError: (asyncpg.Error) prepared statement "__asyncpg_stmt_17__" does not exist'
)
EXISTS = 'HTTP 500: ProgrammingError: prepared statement "__asyncpg_stmt_8__" already exists'


def failing(*errors: tuple[str, int], pooler: str | None = POOLER) -> CellEvidence:
    kinds = [FailureKind(method="GET", name="/items", error=e, occurrences=n) for e, n in errors]
    base = evidence(failures=sum(n for _, n in errors), requests=500)
    return replace(base, failures_by_kind=kinds, pooler=pooler)


def test_statement_errors_behind_a_transaction_pooler_are_the_verdict() -> None:
    finding = pooler_prepared_statements(failing((MISSING, 40), (EXISTS, 2), ("HTTP 500", 3)))
    assert finding is not None
    assert finding.evidence["statement_errors"] == 42
    assert finding.evidence["does_not_exist"] == 40
    assert finding.evidence["already_exists"] == 2
    # The server's own words, quoted.
    assert (
        finding.evidence["server_error"]
        == 'prepared statement "__asyncpg_stmt_17__" does not exist'
    )
    assert "prepared_statement_cache_size=0" in finding.hint
    assert "prepared_statement_name_func" in finding.hint and "NullPool" in finding.hint


def test_one_statement_error_is_enough_and_none_is_a_near_miss() -> None:
    assert pooler_prepared_statements(failing((EXISTS, 1))) is not None
    assert pooler_prepared_statements(failing(("HTTP 500: TimeoutError", 30))) is None


def test_the_same_errors_without_a_pooler_are_not_this_verdict() -> None:
    assert pooler_prepared_statements(failing((MISSING, 40), pooler=None)) is None
    kinds = [f.kind for f in findings_from(failing((MISSING, 40), pooler=None))]
    assert kinds == ["failed-requests"]


def test_the_verdict_absorbs_the_failed_requests() -> None:
    findings = findings_from(failing((MISSING, 40)))
    assert [f.kind for f in findings] == ["pooler-prepared-statements"]
    assert "also: failed-requests" in findings[0].evidence


def test_connections_to_the_pooler_are_not_churn() -> None:
    churning = evidence(pool=PoolReading(connections_opened=2000))
    assert connection_churn(churning) is not None
    assert connection_churn(replace(churning, pooler=POOLER)) is None


def test_config_is_transaction_mode_with_the_servers_password_or_trust(tmp_path: Path) -> None:
    server = make_url('postgresql://app:pa"ss@db.internal:5433/postgres')
    config = write_config(tmp_path, server, 40000).read_text()
    assert "pool_mode = transaction" in config
    assert "listen_addr = 127.0.0.1" in config and "listen_port = 40000" in config
    assert "* = host=db.internal port=5433" in config
    assert "auth_type = scram-sha-256" in config
    assert (tmp_path / "userlist.txt").read_text() == '"app" "pa""ss"\n'
    trusting = write_config(tmp_path, make_url("postgresql://postgres@127.0.0.1/x"), 1)
    assert "auth_type = trust" in trusting.read_text()


def test_every_transaction_pooler_is_a_database_kind() -> None:
    for name in TRANSACTION_POOLERS:
        assert DATABASES.get(name).backend == "postgresql"


def test_no_pgbouncer_on_path_is_one_line_and_exit_3(tmp_path: Path) -> None:
    # PATH keeps only this Python's directory: no pgbouncer on it, whatever is installed.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    if shutil.which("pgbouncer", path=env["PATH"]):
        pytest.skip("pgbouncer sits beside this Python")
    result = subprocess.run(
        [sys.executable, "-m", "sessionbench", "run", "--db", "pgbouncer", "-s",
         "async-session", "--duration", "1s", "--output", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert_one_line(result, 3, "pgbouncer skipped: no pgbouncer on PATH")


def test_the_twin_turns_both_statement_caches_off_and_names_statements_uniquely() -> None:
    config = TargetConfig(
        strategy="async-session-pooler",
        database_url="postgresql+asyncpg://app@127.0.0.1:6432/db",
        pool=POOLS.get("pooler"),
    )
    safe, connect_args = pooler_safe(config)
    assert make_url(safe.database_url).query == {"prepared_statement_cache_size": "0"}
    assert connect_args["statement_cache_size"] == 0
    name = connect_args["prepared_statement_name_func"]
    assert name() != name()
    sqlite = config.model_copy(update={"database_url": "sqlite+aiosqlite:///x.db"})
    assert pooler_safe(sqlite) == (sqlite, {})
