"""A test's verdict on synthetic readings: only what requests did counts, GC pauses are
never the app's, and each check follows its option."""

from sessionbench.reading import (
    HeldReading,
    LoopReading,
    PoolReading,
    ProbeReading,
    RequestReading,
    Site,
    StallCause,
    StallReading,
)
from sessionbench.testing.options import Options
from sessionbench.testing.verdict import judge

ROUTE = "GET /items/{id}"
STACK = ["asyncio/events.py:80 in _run", "app/routes.py:9 in read_item"]


def stall(ms: float, route: str | None, cause: StallCause = "code") -> StallReading:
    code = cause == "code"
    return StallReading(
        seq=0,
        at_s=0.1,
        duration_ms=ms,
        cause=cause,
        stack=STACK if code else [],
        app_frame=1 if code else None,
        route=route if code else None,
    )


def kinds(reading: ProbeReading, options: Options | None = None) -> list[str]:
    reading.requests = RequestReading(started=2)
    return [f.kind for f in judge(reading, 1.0, options or Options()).findings]


def test_a_stall_in_a_request_fails_from_the_threshold_on() -> None:
    assert kinds(ProbeReading(stalls=[stall(60.0, ROUTE)])) == ["event-loop-blocking"]
    assert kinds(ProbeReading(stalls=[stall(45.0, ROUTE)])) == []
    assert kinds(ProbeReading(stalls=[stall(60.0, ROUTE)]), Options(blocking_ms=100)) == []
    assert kinds(ProbeReading(stalls=[stall(60.0, ROUTE)]), Options(blocking=False)) == []


def test_gc_pauses_and_the_tests_own_code_are_never_the_apps() -> None:
    assert kinds(ProbeReading(stalls=[stall(300.0, None, cause="gc")])) == []
    assert kinds(ProbeReading(stalls=[stall(300.0, None)])) == []  # outside any request
    held = HeldReading(app_waiting_ms=500.0, app_waiting_routes={"": 500.0})
    assert kinds(ProbeReading(loop=LoopReading(held=held))) == []
    held = HeldReading(app_waiting_ms=500.0, app_waiting_routes={ROUTE: 500.0})
    assert kinds(ProbeReading(loop=LoopReading(held=held))) == ["event-loop-blocking"]


def test_only_sessions_a_request_began_can_leak() -> None:
    fixture = Site(route=None, location="tests/conftest.py:20 in db", count=1)
    request = Site(route=ROUTE, location="app/routes.py:9 in read_item", count=1)

    def alive(site: Site) -> ProbeReading:
        return ProbeReading(
            pool=PoolReading(sessions_begun=1, sessions_alive=1, sessions_alive_at=[site])
        )

    assert kinds(alive(fixture)) == []
    assert kinds(alive(request)) == ["session-leak"]
    assert kinds(alive(request), Options(leaks=False)) == []
    assert kinds(alive(request), Options(leaked_sessions=2)) == []
