"""Every diagnosis rule on synthetic evidence: a case that fires, a near miss that does
not, and root causes absorbing their symptoms.  The figures are built just past and just
short of each threshold, so a rule that drifts from its documented mechanism fails."""

import pytest

from sessionbench.bench.diagnosis import CellEvidence, findings_from
from sessionbench.bench.diagnosis import thresholds as t
from sessionbench.bench.diagnosis.rules import (
    connection_churn,
    connection_leak,
    engine_per_request,
    event_loop_blocking,
    failed_requests,
    gc_pauses,
    idle_in_transaction,
    lost_write,
    pool_exhaustion,
    session_leak,
    threadpool_starvation,
)
from sessionbench.reading import (
    CommitReading,
    HeldReading,
    LoopReading,
    PoolReading,
    ProbeReading,
    RequestReading,
    ThreadpoolReading,
)
from sessionbench.results import DatabaseChecks, Diagnostics, FailureKind, Stall
from sessionbench.targets.config import PoolSettings

WINDOW_S = 10.0
POOL = PoolSettings(name="test", pool_size=5, max_overflow=10)  # capacity 15
APP_STACK = ["asyncio/events.py:80 in _run", "app/routes.py:12 in read", "psycopg/x.py:3 in w"]


def evidence(
    *,
    pool: PoolReading | None = None,
    held: HeldReading | None = None,
    stalls: list[Stall] | None = None,
    threadpool: ThreadpoolReading | None = None,
    commits: CommitReading | None = None,
    in_flight: int = 0,
    requests: int = 1000,
    failures: int = 0,
    checks: DatabaseChecks | None = None,
) -> CellEvidence:
    final = ProbeReading(
        uptime_s=WINDOW_S,
        final=True,
        loop=LoopReading(held=held or HeldReading()),
        pool=pool or PoolReading(),
        threadpool=threadpool or ThreadpoolReading(total=40),
        commits=commits or CommitReading(),
        requests=RequestReading(started=requests, in_flight=in_flight),
    )
    diagnostics = Diagnostics(final=final, stalls=stalls or [], stacks=[APP_STACK])
    return CellEvidence(
        pool_settings=POOL,
        final=final,
        diagnostics=diagnostics,
        window_s=WINDOW_S,
        requests=requests,
        failures=failures,
        failures_by_kind=[
            FailureKind(method="GET", name="/x", error="HTTP 500", occurrences=failures)
        ]
        if failures
        else [],
        checks=checks,
    )


def app_stall(ms: float, at_s: float = 1.0) -> Stall:
    return Stall(at_s=at_s, duration_ms=ms, cause="code", stack=0, app_frame=1)


# -- event-loop-blocking ----------------------------------------------------------------


def test_blocking_fires_on_waiting_in_app_code_without_long_stalls() -> None:
    # A sync driver call of a few ms per request: no stall reaches 40 ms, but the loop
    # waited in the app's code for 1.2 times the threshold's share of the window.
    waited_ms = 1.2 * t.BLOCKING_WAITING_SHARE * WINDOW_S * 1000
    held = HeldReading(app_waiting_ms=waited_ms, app_waiting_frames={"a.py:1": 1.0})
    finding = event_loop_blocking(evidence(held=held, stalls=[app_stall(20)]))
    assert finding is not None and finding.decided is not None
    assert finding.decided.figure == "app_waiting_share"
    assert finding.decided.margin == pytest.approx(0.2)
    assert finding.decided.borderline  # 20 % past the threshold: a repeat may disagree
    assert finding.evidence["blocking_code"] == "a.py:1"


def test_blocking_near_miss_on_waiting_share() -> None:
    waited_ms = 0.9 * t.BLOCKING_WAITING_SHARE * WINDOW_S * 1000
    held = HeldReading(app_waiting_ms=waited_ms, app_running_ms=9000)
    assert event_loop_blocking(evidence(held=held)) is None  # running in app code: CPU, not waiting


def test_a_loop_held_past_the_end_of_load_reads_as_the_whole_window() -> None:
    held = HeldReading(app_waiting_ms=5 * WINDOW_S * 1000)
    finding = event_loop_blocking(evidence(held=held))
    assert finding is not None and finding.evidence["app_waiting_share"] == 1.0


def test_a_single_stall_of_a_second_is_blocking_on_its_own() -> None:
    finding = event_loop_blocking(evidence(stalls=[app_stall(1000)]))
    assert finding is not None and finding.decided is not None
    assert finding.decided.figure == "stall_max_ms"
    assert finding.evidence["blocking_code"] == "app/routes.py:12 in read"
    assert event_loop_blocking(evidence(stalls=[app_stall(990)])) is None


def test_recurring_long_stalls_are_blocking_and_two_are_not_a_pattern() -> None:
    recurring = [app_stall(45, at_s=i / 3) for i in range(21)]  # 2.1 a second
    assert event_loop_blocking(evidence(stalls=recurring)) is not None
    assert event_loop_blocking(evidence(stalls=recurring[:19])) is None  # 1.9 a second
    assert event_loop_blocking(evidence(stalls=[app_stall(400), app_stall(400)])) is None


def test_stalls_without_the_apps_code_are_not_blocking() -> None:
    framework = [Stall(at_s=1, duration_ms=2000, cause="code", stack=0, app_frame=None)]
    gc = [Stall(at_s=1, duration_ms=2000, cause="gc")]
    assert event_loop_blocking(evidence(stalls=framework + gc)) is None


def test_gc_pauses_are_a_note() -> None:
    finding = gc_pauses(evidence(stalls=[Stall(at_s=1, duration_ms=60, cause="gc")]))
    assert finding is not None and finding.severity == "info"
    assert gc_pauses(evidence(stalls=[Stall(at_s=1, duration_ms=39, cause="gc")])) is None


# -- pool and threadpool ------------------------------------------------------------------


def test_pool_exhaustion_on_timeouts_or_long_waits_at_capacity() -> None:
    assert pool_exhaustion(evidence(pool=PoolReading(pool_timeouts=1))) is not None
    waited = PoolReading(checked_out_max=15, checkout_wait_ms={0: 90, 1200: 10})
    finding = pool_exhaustion(evidence(pool=waited))
    assert finding is not None and finding.severity == "warning"
    # The same waits below capacity are the database being slow, not the pool running out.
    below = waited.model_copy(update={"checked_out_max": 14})
    assert pool_exhaustion(evidence(pool=below)) is None
    short = waited.model_copy(update={"checkout_wait_ms": {0: 90, 900: 10}})
    assert pool_exhaustion(evidence(pool=short)) is None


def test_threadpool_starvation_needs_threads_waiting_beyond_the_pool() -> None:
    starved = ThreadpoolReading(total=40, borrowed_max=40, saturated_share=0.3)
    assert threadpool_starvation(evidence(threadpool=starved)) is not None
    short = starved.model_copy(update={"saturated_share": 0.19})
    assert threadpool_starvation(evidence(threadpool=short)) is None
    within_pool = starved.model_copy(update={"borrowed_max": 15})
    assert threadpool_starvation(evidence(threadpool=within_pool)) is None


# -- connections and engines --------------------------------------------------------------


def test_churn_needs_both_a_rate_and_a_share_of_requests() -> None:
    # 15 fill the pool; 200 more in 10 s over 1000 requests: 20/s and 0.2 per request.
    assert connection_churn(evidence(pool=PoolReading(connections_opened=215))) is not None
    # 20/s but over 10,000 requests (0.02 each): reconnects that cost nobody much.
    many = evidence(pool=PoolReading(connections_opened=215), requests=10_000)
    assert connection_churn(many) is None
    # A share of requests, but 9/s.
    few = evidence(pool=PoolReading(connections_opened=105), requests=400)
    assert connection_churn(few) is None


def test_engine_per_request_is_judged_per_request() -> None:
    per_request = evidence(pool=PoolReading(engines_connected=302), requests=1000)
    finding = engine_per_request(per_request)
    assert finding is not None and finding.decided is not None
    assert finding.decided.value == pytest.approx(0.3)
    # Many engines over very many requests, or the app's own few: not per request.
    assert (
        engine_per_request(evidence(pool=PoolReading(engines_connected=300), requests=10_000))
        is None
    )
    assert engine_per_request(evidence(pool=PoolReading(engines_connected=2), requests=3)) is None
    # A short test: three requests, each building an engine.
    assert (
        engine_per_request(evidence(pool=PoolReading(engines_connected=3), requests=3)) is not None
    )


def test_connection_leak_counts_what_requests_in_flight_do_not_explain() -> None:
    assert connection_leak(evidence(pool=PoolReading(gc_cleaned_connections=1))) is not None
    assert connection_leak(evidence(pool=PoolReading(checked_out=3), in_flight=2)) is not None
    assert connection_leak(evidence(pool=PoolReading(checked_out=3), in_flight=3)) is None
    # Requests stuck waiting for a connection the leaked transactions hold: still a leak.
    held = PoolReading(checked_out=15, idle_after_request=15)
    finding = connection_leak(evidence(pool=held, in_flight=40))
    assert finding is not None and finding.evidence["checked_out_after_quiesce"] == 15


def test_session_leak_needs_many_and_a_share_of_all_sessions() -> None:
    leaking = PoolReading(sessions_alive=300, sessions_begun=1000)
    assert session_leak(evidence(pool=leaking)) is not None
    # A few sessions kept alive by stored tracebacks are a small share.
    kept = PoolReading(sessions_alive=150, sessions_begun=1000)
    assert session_leak(evidence(pool=kept)) is None
    assert session_leak(evidence(pool=PoolReading(sessions_alive=9, sessions_begun=9))) is None
    # Sessions of requests still running are not leaked.
    assert session_leak(evidence(pool=leaking, in_flight=295)) is None


def test_idle_in_transaction_left_after_quiesce() -> None:
    assert idle_in_transaction(evidence(pool=PoolReading(sessions_in_transaction=1))) is not None
    running = evidence(pool=PoolReading(sessions_in_transaction=1), in_flight=1)
    assert idle_in_transaction(running) is None


# -- writes and requests ------------------------------------------------------------------


def test_lost_write_from_commits_after_the_response() -> None:
    assert lost_write(evidence(commits=CommitReading(commits_after_response=1))) is not None
    missing = evidence(checks=DatabaseChecks(failed_writes_committed=0, missing_writes=1))
    assert lost_write(missing) is not None


def test_background_tasks_commits_are_not_lost_writes() -> None:
    background = CommitReading(commits=100, background_commits_after_response=100)
    assert lost_write(evidence(commits=background)) is None


def test_failed_requests_severity_follows_the_error_rate() -> None:
    warning = failed_requests(evidence(failures=9, requests=1000))
    assert warning is not None and warning.severity == "warning"
    assert "HTTP 500" in warning.summary
    error = failed_requests(evidence(failures=10, requests=1000))
    assert error is not None and error.severity == "error"
    assert failed_requests(evidence(failures=0)) is None


# -- root causes and their symptoms -------------------------------------------------------


def test_a_connection_leak_absorbs_its_symptoms_with_their_figures() -> None:
    e = evidence(
        pool=PoolReading(
            gc_cleaned_connections=20,
            sessions_in_transaction=3,
            pool_timeouts=4,
            connections_opened=400,
        ),
        failures=40,
    )
    kinds = {f.kind: f for f in findings_from(e)}
    assert set(kinds) == {"connection-leak"}
    absorbed = {k for k in kinds["connection-leak"].evidence if k.startswith("also: ")}
    assert absorbed == {
        "also: idle-in-transaction",
        "also: pool-exhaustion",
        "also: connection-churn",
        "also: failed-requests",
    }


def test_failed_requests_stand_alone_when_nothing_explains_them() -> None:
    assert [f.kind for f in findings_from(evidence(failures=5))] == ["failed-requests"]


def test_an_engine_per_request_absorbs_the_churn_it_causes() -> None:
    e = evidence(pool=PoolReading(engines_connected=900, connections_opened=900))
    assert [f.kind for f in findings_from(e)] == ["engine-per-request"]


def test_a_healthy_cell_has_no_findings() -> None:
    healthy = evidence(
        pool=PoolReading(connections_opened=15, checkouts=1000, sessions_begun=1000),
        held=HeldReading(app_running_ms=4000, other_running_ms=1000),
        commits=CommitReading(commits=1000),
    )
    assert findings_from(healthy) == []


def test_borderline_marks_decisions_within_the_margin() -> None:
    def starvation(share: float) -> bool:
        reading = ThreadpoolReading(total=40, borrowed_max=40, saturated_share=share)
        finding = threadpool_starvation(evidence(threadpool=reading))
        assert finding is not None and finding.decided is not None
        return finding.decided.borderline

    limit = t.THREADPOOL_SATURATED_SHARE * (1 + t.BORDERLINE_MARGIN)
    assert starvation(limit - 0.01)
    assert not starvation(limit + 0.01)
