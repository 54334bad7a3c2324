"""The verdicts added for users' own apps, on synthetic evidence: each fires on its
mechanism, and a near miss does not."""

from datetime import UTC, datetime

from sessionbench.app_info import AppError
from sessionbench.bench.diagnosis import diagnose
from sessionbench.bench.diagnosis import thresholds as t
from sessionbench.reading import ProbeReading, RequestReading
from sessionbench.results import CellConfig, CellResult, Diagnostics, LoadResult
from sessionbench.targets.config import PoolSettings


def _cell(diagnostics: Diagnostics, failures: int = 0) -> CellResult:
    config = CellConfig(
        id="app/postgres+asyncpg/app/openapi", strategy="app", database="postgres",
        driver="asyncpg", database_url="postgresql+asyncpg://h/db", pool=PoolSettings(name="app"),
        scenario="openapi", users=8, duration_s=4, tasks={}, slow_ms=0,
    )  # fmt: skip
    load = LoadResult(
        duration_s=4, requests=1000, failures=failures, requests_per_s=250, p50_ms=5,
        p90_ms=9, p99_ms=20, max_ms=40, routes=[], failures_by_kind=[],
        generator_cpu_percent=30, generator_saturated=False,
    )  # fmt: skip
    return CellResult(
        config=config, status="ok", load=load, diagnostics=diagnostics,
        started_at=datetime.now(UTC), wall_s=8,
    )  # fmt: skip


def _diagnostics(**kwargs: object) -> Diagnostics:
    final = ProbeReading(uptime_s=5, final=True, requests=RequestReading(started=1000))
    return Diagnostics(final=final, **kwargs)  # type: ignore[arg-type]


def _kinds(cell: CellResult) -> list[str]:
    return [f.kind for f in diagnose(cell)]


def test_idle_transaction_during_load_is_found() -> None:
    cell = _cell(_diagnostics(idle_in_transaction_max_age_s=t.IDLE_IN_TRANSACTION_AGE_S + 0.6))
    [finding] = diagnose(cell)
    assert finding.kind == "idle-in-transaction"
    assert finding.decided is not None
    assert finding.decided.figure == "oldest_idle_in_transaction_s"


def test_transactions_idle_between_statements_are_not() -> None:
    # A GC pause between two statements: well under the threshold.
    cell = _cell(_diagnostics(idle_in_transaction_max_age_s=0.1))
    assert _kinds(cell) == []


def test_idle_transactions_of_a_blocked_loop_are_blamed_on_the_blocking() -> None:
    final = ProbeReading(uptime_s=5, final=True, requests=RequestReading(started=1000))
    final.loop.held.app_waiting_ms = 2000  # half the run waiting in the app's code
    final.loop.held.app_waiting_frames = {"reports.py:45 in score_report": 2000}
    cell = _cell(Diagnostics(final=final, idle_in_transaction_max_age_s=2.0))
    findings = diagnose(cell)
    assert [f.kind for f in findings] == ["event-loop-blocking"]
    assert "also: idle-in-transaction" in findings[0].evidence


SHARED = AppError(
    error="InterfaceError: (sqlalchemy.dialects.postgresql.asyncpg.InterfaceError) <class "
    "'asyncpg.exceptions._base.InterfaceError'>: cannot perform operation: another "
    "operation is in progress",
    app_line="counter.py:31 in visit",
    count=7,
)


def test_concurrent_use_of_one_session_is_found_with_its_line() -> None:
    cell = _cell(_diagnostics(app_errors=[SHARED]), failures=7)
    [finding] = diagnose(cell)  # the failed requests are its symptom
    assert finding.kind == "shared-session"
    assert "counter.py:31 in visit" in finding.summary
    assert "also: failed-requests" in finding.evidence


def test_other_app_errors_are_not_a_shared_session() -> None:
    other = AppError(error="ZeroDivisionError: division by zero", app_line="a.py:3 in f", count=7)
    cell = _cell(_diagnostics(app_errors=[other]), failures=7)
    assert _kinds(cell) == ["failed-requests"]


def test_a_shared_session_takes_the_connection_it_keeps() -> None:
    final = ProbeReading(uptime_s=5, final=True, requests=RequestReading(started=1000))
    final.pool.checked_out = 1  # the shared session's connection, never returned
    final.pool.sessions_in_transaction = 1
    cell = _cell(Diagnostics(final=final, app_errors=[SHARED]), failures=7)
    [finding] = diagnose(cell)
    assert finding.kind == "shared-session"
    assert {"also: connection-leak", "also: idle-in-transaction"} <= finding.evidence.keys()
