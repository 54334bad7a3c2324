"""The rules on synthetic evidence: the new criteria fire, near misses do not, and every
finding names the route and the app's line the probes attributed it to."""

from sessionbench.bench.diagnosis import CellEvidence, findings_from
from sessionbench.bench.diagnosis import thresholds as t
from sessionbench.bench.diagnosis.thresholds import Limits
from sessionbench.reading import (
    CommitReading,
    HeldReading,
    LoopCallsReading,
    LoopReading,
    PoolReading,
    ProbeReading,
    Site,
)
from sessionbench.results import Diagnostics, Stall

ROUTE = "GET /items/{id}"
LINE = "app/routes.py:14 in read_item"


def evidence(
    reading: ProbeReading,
    stalls: list[Stall] | None = None,
    stacks: list[list[str]] | None = None,
    requests: int = 100,
    limits: Limits | None = None,
) -> CellEvidence:
    return CellEvidence(
        pool_settings=None,
        final=reading,
        diagnostics=Diagnostics(final=reading, stalls=stalls or [], stacks=stacks or []),
        window_s=10.0,
        requests=requests,
        limits=limits or Limits(),
    )


def kinds(e: CellEvidence) -> dict[str, dict[str, float | int | str]]:
    return {f.kind: f.evidence for f in findings_from(e)}


def calls(count: int, route: str | None = ROUTE) -> ProbeReading:
    sites = [Site(route=route, location=LINE, count=count)] if count else []
    return ProbeReading(
        loop=LoopReading(
            sync_driver_calls=LoopCallsReading(calls=count, total_ms=count * 0.5, sites=sites)
        )
    )


def test_one_sync_driver_call_on_the_loop_in_a_request_is_blocking() -> None:
    found = kinds(evidence(calls(t.BLOCKING_SYNC_DRIVER_CALLS)))
    assert found["event-loop-blocking"]["route"] == ROUTE
    assert found["event-loop-blocking"]["blocking_code"] == LINE


def test_sync_driver_calls_outside_requests_are_not_blocking() -> None:
    # Start-up code (create_all in a lifespan, say) runs before anyone is served.
    assert "event-loop-blocking" not in kinds(evidence(calls(5, route=None)))
    assert "event-loop-blocking" not in kinds(evidence(calls(0)))


def test_held_waiting_names_its_route_and_line() -> None:
    reading = ProbeReading(
        loop=LoopReading(
            held=HeldReading(
                app_waiting_ms=2000.0,  # 20 % of a 10 s window
                app_waiting_frames={LINE: 2000.0},
                app_waiting_routes={ROUTE: 1900.0, "": 100.0},
            )
        )
    )
    found = kinds(evidence(reading))["event-loop-blocking"]
    assert (found["route"], found["blocking_code"]) == (ROUTE, LINE)


def test_a_stall_names_its_route_and_the_limit_is_the_callers() -> None:
    stack = ["asyncio/events.py:80 in _run", LINE]
    stall = Stall(at_s=1.0, duration_ms=60.0, cause="code", stack=0, app_frame=1, route=ROUTE)
    reading = ProbeReading()
    # A run's limit: one 60 ms stall in 10 s is no pattern.
    assert "event-loop-blocking" not in kinds(evidence(reading, [stall], [stack]))
    short = Limits(blocking_stall_ms=50.0, blocking_single_stall_ms=50.0)
    found = kinds(evidence(reading, [stall], [stack], limits=short))["event-loop-blocking"]
    assert (found["route"], found["blocking_code"]) == (ROUTE, LINE)
    near = Limits(blocking_stall_ms=61.0, blocking_single_stall_ms=61.0)
    assert "event-loop-blocking" not in kinds(evidence(reading, [stall], [stack], limits=near))


def engines(per_route: int, requests: int) -> CellEvidence:
    sites = [Site(route="POST /orders", location="app/db.py:8 in get_db", count=per_route)]
    reading = ProbeReading(
        pool=PoolReading(engines_connected=per_route, engines_in_requests_at=sites)
    )
    return evidence(reading, requests=requests)


def test_engines_built_by_one_route_in_several_requests() -> None:
    found = kinds(engines(per_route=2, requests=2))["engine-per-request"]
    assert found["built_at"] == "POST /orders at app/db.py:8 in get_db"


def test_one_engine_connected_lazily_by_a_route_is_not_per_request() -> None:
    assert "engine-per-request" not in kinds(engines(per_route=1, requests=1))


def test_a_transaction_left_open_after_its_request() -> None:
    site = Site(route=ROUTE, location=LINE, count=1)
    pool = PoolReading(idle_after_request=1, idle_after_request_at=[site])
    found = kinds(evidence(ProbeReading(pool=pool)))["idle-in-transaction"]
    assert found["left_open_at"] == f"{ROUTE} at {LINE}"
    assert "idle-in-transaction" not in kinds(evidence(ProbeReading()))


def test_a_kept_session_names_where_it_began_and_absorbs_its_open_transaction() -> None:
    site = Site(route="POST /notes", location="app/notes.py:20 in add_note", count=2)
    pool = PoolReading(
        sessions_begun=2,
        sessions_alive=2,
        sessions_alive_at=[site],
        idle_after_request=2,
        idle_after_request_at=[site],
    )
    reading = ProbeReading(pool=pool)
    # A run allows a few sessions a framework may cache ...
    assert "session-leak" not in kinds(evidence(reading))
    # ... a caller with a short window allows none.
    found = kinds(evidence(reading, limits=Limits(leaked_sessions_min=1)))
    assert found["session-leak"]["begun_at"] == "POST /notes at app/notes.py:20 in add_note"
    assert "idle-in-transaction" not in found  # absorbed into the leak
    assert "also: idle-in-transaction" in found["session-leak"]


def test_leaked_and_late_commits_name_their_site() -> None:
    site = Site(route="GET /report", location="app/report.py:31 in build", count=1)
    reading = ProbeReading(
        pool=PoolReading(gc_cleaned_connections=1, gc_cleaned_at=[site]),
        commits=CommitReading(commits=1, commits_after_response=1, after_response_at=[site]),
    )
    found = kinds(evidence(reading))
    assert found["connection-leak"]["leaked_at"] == "GET /report at app/report.py:31 in build"
    assert found["lost-write"]["late_commit_at"] == "GET /report at app/report.py:31 in build"
