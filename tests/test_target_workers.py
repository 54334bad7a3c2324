"""Targets under several worker processes: readings summed, capacity against the
server's limit, verdicts judged per worker, cells of another process count kept apart."""

import dataclasses

import pytest

from sessionbench.bench.diagnosis import CellEvidence, findings_from
from sessionbench.bench.diagnosis.rules import pool_exhaustion
from sessionbench.bench.matrix import Cell
from sessionbench.capacity import connection_budget
from sessionbench.reading import (
    HeldReading,
    LagReading,
    LoopReading,
    PoolReading,
    ProbeReading,
    RequestReading,
    Site,
    StallTotals,
)
from sessionbench.reading_sum import sum_readings
from sessionbench.results import Stall, WorkerReading
from sessionbench.targets.config import PoolSettings

from .test_rules import APP_STACK, WINDOW_S, evidence

POOL = PoolSettings(name="test", pool_size=5, max_overflow=10)


def reading(checked_out_max: int, checkouts: int, started: int, lag_max: float) -> ProbeReading:
    return ProbeReading(
        uptime_s=started / 100,
        final=True,
        loop=LoopReading(
            lag=LagReading(max_ms=lag_max, total_ms=lag_max, ticks=10, histogram={1: 9, 5: 1}),
            stalls=StallTotals(count={"code": 2}, max_ms={"code": lag_max}),
            held=HeldReading(app_waiting_ms=lag_max, app_waiting_frames={"a.py:1": lag_max}),
        ),
        pool=PoolReading(
            checkouts=checkouts,
            checked_out=1,
            checked_out_max=checked_out_max,
            pool_timeouts=checkouts // 100,
            checkout_wait_ms={0: checkouts},
            checked_out_at=[Site(route="GET /x", location="a.py:1")],
        ),
        requests=RequestReading(started=started, in_flight=1),
    )


def test_counters_add_up_and_maxima_are_the_worst_workers() -> None:
    total = sum_readings([reading(15, 300, 400, 20.0), reading(9, 200, 300, 50.0)])
    pool = total.pool
    assert (pool.checkouts, pool.checked_out, pool.pool_timeouts) == (500, 2, 5)
    assert pool.checkout_wait_ms == {0: 500}
    assert pool.checked_out_max == 15  # never 24: the two peaks were in two pools
    assert total.requests == RequestReading(started=700, in_flight=2)
    lag = total.loop.lag
    assert (lag.max_ms, lag.total_ms, lag.ticks, lag.histogram) == (50.0, 70.0, 20, {1: 18, 5: 2})
    assert total.loop.stalls.count == {"code": 4} and total.loop.stalls.max_ms == {"code": 50.0}
    assert total.loop.held.app_waiting_frames == {"a.py:1": 70.0}
    # The same route and line, held in both workers: one site, counted twice.
    assert pool.checked_out_at == [Site(route="GET /x", location="a.py:1", count=2)]
    assert total.uptime_s == 4.0 and total.final


def test_one_reading_sums_to_itself() -> None:
    one = reading(1, 2, 3, 4.0)
    assert sum_readings([one]) is one
    with pytest.raises(ValueError):
        sum_readings([])


@pytest.mark.parametrize(
    ("workers", "pool", "limit", "total", "exceeds"),
    [
        (1, POOL, 97, 15, False),
        (4, POOL, 97, 60, False),
        (7, POOL, 97, 105, True),
        (7, POOL, None, 105, False),  # the server's limit not known: no warning
        (2, POOL.model_copy(update={"poolclass": "null"}), 97, None, True),  # unbounded
        (2, POOL.model_copy(update={"max_overflow": -1}), None, None, False),
    ],
)
def test_capacity_is_workers_times_the_pool_against_the_servers_limit(
    workers: int, pool: PoolSettings, limit: int | None, total: int | None, exceeds: bool
) -> None:
    budget = connection_budget(workers, pool, limit)
    assert (budget.total, budget.exceeds) == (total, exceeds)


def test_capacity_needs_a_worker() -> None:
    with pytest.raises(ValueError):
        connection_budget(0, POOL, 97)
    text = connection_budget(7, POOL, 97).describe()
    assert text == "7 workers x 15 connections (pool_size + max_overflow) = 105, server allows 97"


def _with_workers(
    e: CellEvidence, *workers: WorkerReading, stalls: list[Stall] | None = None
) -> CellEvidence:
    diagnostics = e.diagnostics.model_copy(
        update={"workers": list(workers), "stalls": stalls or [], "stacks": [APP_STACK]}
    )
    return dataclasses.replace(e, diagnostics=diagnostics)


def test_two_pools_at_half_are_not_one_pool_exhausted() -> None:
    # Summed, 8 + 8 checked out reads 16 of a pool of 15; each worker had 8 of its own 15.
    halves = [
        WorkerReading(pid=pid, reading=ProbeReading(pool=PoolReading(
            checked_out_max=8, checkout_wait_ms={0: 90, 1200: 10})))
        for pid in (101, 102)
    ]  # fmt: skip
    summed = sum_readings([w.reading for w in halves]).pool.model_copy(
        update={"checked_out_max": 16}
    )
    assert pool_exhaustion(evidence(pool=summed)) is not None  # what a sum alone would say
    judged = findings_from(_with_workers(evidence(pool=summed), *halves))
    assert "pool-exhaustion" not in {f.kind for f in judged}


def test_a_blocked_worker_is_named_in_the_finding() -> None:
    blocked = WorkerReading(
        pid=202,
        reading=ProbeReading(
            loop=LoopReading(held=HeldReading(app_waiting_ms=0.5 * WINDOW_S * 1000))
        ),
    )
    fine = WorkerReading(pid=201, reading=ProbeReading())
    stalls = [Stall(at_s=1, duration_ms=300, cause="code", stack=0, app_frame=1, worker=202)]
    e = _with_workers(evidence(), fine, blocked, stalls=stalls)
    [finding] = [f for f in findings_from(e) if f.kind == "event-loop-blocking"]
    assert finding.evidence["workers"] == "1 of 2 (pid 202)"
    assert finding.evidence["stalls"] == 1 and "pid 202" in finding.summary


def test_cells_under_another_worker_count_never_share_an_id() -> None:
    from sessionbench.bench.databases.catalogue import DATABASES
    from sessionbench.scenarios.catalogue import load_scenarios
    from sessionbench.targets.registry import strategies

    one = Cell(
        strategy=strategies().get("async-session"), database=DATABASES.get("postgres"),
        driver="asyncpg", pool=POOL, scenario=load_scenarios().get("crud"), users=8,
        duration_s=4,
    )  # fmt: skip
    two = dataclasses.replace(one, target_workers=2)
    assert one.id == "async-session/postgres+asyncpg/test/crud"
    assert two.id == "async-session/postgres+asyncpg/test/crud@target-workers=2"
