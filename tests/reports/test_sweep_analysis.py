"""The sweep's knee and recommendation on synthetic points, the arithmetic against the
server's connection limit, and the sweep in every report."""

from pathlib import Path

from sessionbench.reports import html, markdown, terminal
from sessionbench.reports.sweep_analysis import Arithmetic, analyse
from sessionbench.reports.sweep_chart import write_svg
from sessionbench.results import CellResult, FailureKind, RouteStats, RunResult
from sessionbench.sweep_record import ServerLimits, SweepRecord
from sessionbench.targets.pools import POOLS, custom_pool

POSTGRES = ServerLimits(backend="postgresql", max_connections=100, reserved_connections=3)


def _point(
    run: RunResult,
    pool_size: int,
    users: int,
    rps: float,
    *,
    waited_ms: int = 0,
    failures: int = 0,
    repeat: int = 0,
) -> CellResult:
    """A cell whose 1,000 requests took 100 ms each and whose 1,000 checkouts waited
    `waited_ms` each: requests waited waited_ms / 100 of their time for a connection."""
    cell = run.cells[0].model_copy(deep=True)
    pool = custom_pool(POOLS.get("default"), pool_size, 0, None)
    cell.config.pool, cell.config.users, cell.repeat = pool, users, repeat
    cell.config.id = f"async-session/postgres+asyncpg/{pool.name}/slow@users={users}"
    assert cell.load is not None and cell.diagnostics is not None
    assert cell.diagnostics.final is not None
    route = cell.load.routes[0].model_copy(update={"histogram_ms": {100: 1000}})
    cell.load.routes = [RouteStats.model_validate(route)]
    cell.load.requests_per_s, cell.load.failures, cell.load.unfinished = rps, failures, 0
    cell.load.failures_by_kind = (
        [FailureKind(method="GET", name="/slow", error="HTTP 500", occurrences=failures)]
        if failures
        else []
    )
    cell.diagnostics.final.pool.checkout_wait_ms = {waited_ms: 1000}
    return cell


def _sweep(run: RunResult, cells: list[CellResult], **record: object) -> RunResult:
    sizes = sorted({c.config.pool.pool_size for c in cells})
    users = sorted({c.config.users for c in cells})
    settings = {"strategy": "async-session", "database": "postgres", "scenario": "slow",
                "pool_sizes": sizes, "users": users, "server": POSTGRES, **record}  # fmt: skip
    return run.model_copy(update={"cells": cells, "sweep": SweepRecord.model_validate(settings)})


def test_a_run_that_is_no_sweep_has_no_analysis(run: RunResult) -> None:
    assert analyse(run) is None


def test_the_knee_is_where_throughput_stops_growing(run: RunResult) -> None:
    cells = [
        _point(run, 2, 16, 60, waited_ms=80),
        _point(run, 4, 16, 120, waited_ms=40),
        _point(run, 8, 16, 236, waited_ms=2),
        _point(run, 16, 16, 240),
    ]
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None
    [knee] = analysis.knees
    assert (knee.pool_size, knee.best_rps) == (8, 240)
    assert analysis.recommended == 8
    assert "within 10% of the best (240 at pool_size 16)" in knee.reason
    assert analysis.tolerance_source.startswith("10% of the best (fixed")


def test_a_flat_curve_recommends_the_smallest_pool(run: RunResult) -> None:
    cells = [_point(run, size, 8, rps) for size, rps in [(2, 500), (4, 510), (8, 505)]]
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None and analysis.recommended == 2


def test_a_fast_pool_that_makes_requests_wait_is_not_the_knee(run: RunResult) -> None:
    # Throughput within the tolerance, but requests queue a fifth of their time.
    cells = [_point(run, 2, 8, 500, waited_ms=20), _point(run, 4, 8, 505, waited_ms=1)]
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None and analysis.recommended == 4


def test_points_that_failed_requests_are_never_recommended(run: RunResult) -> None:
    cells = [
        _point(run, 2, 32, 900, failures=5),  # fastest, but some requests failed
        _point(run, 4, 32, 400),
        _point(run, 8, 32, 410),
    ]
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None
    assert analysis.recommended == 4
    assert "pool sizes 2 failed requests" in analysis.knees[0].reason
    everything_fails = [_point(run, size, 8, 300, failures=1) for size in (2, 4)]
    failed = analyse(_sweep(run, everything_fails))
    assert failed is not None and failed.recommended is None
    assert failed.knees[0].reason == "every pool size failed requests: none recommended"


def test_the_largest_knee_over_the_users_levels_is_recommended(run: RunResult) -> None:
    cells = [
        _point(run, 2, 8, 150), _point(run, 4, 8, 152), _point(run, 8, 8, 151),
        _point(run, 2, 32, 150, waited_ms=70), _point(run, 4, 32, 300, waited_ms=40),
        _point(run, 8, 32, 590, waited_ms=3),
    ]  # fmt: skip
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None
    assert [(k.users, k.pool_size) for k in analysis.knees] == [(8, 2), (32, 8)]
    assert analysis.recommended == 8
    assert analysis.reason.startswith("the knee at 32 users")


def test_repeats_set_the_tolerance_from_their_spread(run: RunResult) -> None:
    cells = [_point(run, 2, 8, rps, repeat=i) for i, rps in enumerate([380, 400, 420])] + [
        _point(run, 4, 8, rps, repeat=i) for i, rps in enumerate([400, 420, 440])
    ]
    analysis = analyse(_sweep(run, cells))
    assert analysis is not None
    assert "spread measured between repeats" in analysis.tolerance_source
    assert 0.08 < analysis.tolerance < 0.12  # 2 x a spread of about 5 %
    assert analysis.recommended == 2  # 400 is within ~10 % of 420


def test_arithmetic_against_max_connections() -> None:
    fits = Arithmetic(workers=4, pool_size=20, max_overflow=0, limits=POSTGRES)
    assert (fits.needed, fits.headroom, fits.largest_pool_size) == (80, 17, 24)
    assert "headroom: 17 connections" in fits.lines()[-1]
    too_many = Arithmetic(workers=4, pool_size=20, max_overflow=10, limits=POSTGRES)
    assert (too_many.needed, too_many.headroom) == (120, -23)
    assert too_many.lines()[-1].startswith("warning: 23 connections beyond what the server")
    assert "pool_size may be at most 14" in too_many.lines()[-1]
    unbounded = Arithmetic(workers=1, pool_size=5, max_overflow=-1, limits=POSTGRES)
    assert unbounded.needed is None and "unbounded" in unbounded.lines()[-1]
    sqlite = ServerLimits(backend="sqlite", note="not applicable: SQLite has no server")
    lines = Arithmetic(workers=1, pool_size=5, max_overflow=0, limits=sqlite).lines()
    assert lines == ["server connection limit: not applicable: SQLite has no server"]


def test_the_arithmetic_takes_the_target_workers(run: RunResult) -> None:
    cells = [_point(run, 30, 8, 500)]
    analysis = analyse(_sweep(run, cells, target_workers=4))
    assert analysis is not None and analysis.arithmetic is not None
    assert analysis.arithmetic.needed == 120
    assert any(line.startswith("warning: 23 connections") for line in analysis.arithmetic.lines())


def test_every_report_shows_the_sweep(run: RunResult, tmp_path: Path) -> None:
    cells = [_point(run, 2, 8, 150, waited_ms=50), _point(run, 8, 8, 400)]
    sweep = _sweep(run, cells)
    for text in (markdown.render(sweep), terminal.render(sweep), html.render(sweep)):
        assert "recommended pool_size 8" in text
        assert "97 available to the application" in text
    assert "| 8 | 2 | 150 | 0.0 % |" in markdown.render(sweep)
    analysis = analyse(sweep)
    [svg] = write_svg(analysis, tmp_path, "summary")
    assert svg.name == "summary-sweep.svg" and "<svg" in svg.read_text()
    assert write_svg(analyse(run), tmp_path, "plain") == []
