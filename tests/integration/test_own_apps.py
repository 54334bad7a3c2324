"""Users' own apps (tests/apps/) through `run --app`, each with the verdict its session
code earns, on Postgres.  Info-level notes (GC pauses) are left out."""

from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import ProvisionOptions
from sessionbench.bench.ownapp.plan import AppOptions, app_plan
from sessionbench.bench.runner import execute
from sessionbench.results import CellResult, Finding

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

APPS = Path(__file__).parents[1] / "apps"

# app -> (driver, users, expected finding kinds)
EXPECTED: dict[str, tuple[str, int, set[str]]] = {
    "notes": ("asyncpg", 8, set()),
    "feed": ("asyncpg", 8, {"pool-exhaustion"}),
    "counter": ("asyncpg", 8, {"shared-session"}),
    "orders": ("asyncpg", 8, {"lost-write"}),
    "payments": ("asyncpg", 8, {"idle-in-transaction"}),
    "reports": ("asyncpg", 8, {"event-loop-blocking"}),
    "inventory": ("psycopg", 60, {"threadpool-starvation", "pool-exhaustion"}),
    "signup": ("asyncpg", 8, {"lost-write"}),
}


def run_app(
    module: str, output: Path, postgres_url: str, driver: str, users: int, **options: object
) -> tuple[set[str], CellResult]:
    plan = app_plan(
        AppOptions(
            app=f"{module}:app", app_dir=APPS, metadata=f"{module}:Base", duration_s=4,
            databases=["postgres"], drivers=[driver], users=users, **options,  # type: ignore[arg-type]
        ),
        output, 1, ProvisionOptions(postgres_url=postgres_url),
    )  # fmt: skip
    [cell] = execute(plan).cells
    assert cell.status == "ok", cell.error
    return {f.kind for f in cell.findings if f.severity != "info"}, cell


@pytest.mark.parametrize("module", EXPECTED)
def test_own_app_gets_its_verdict(module: str, tmp_path: Path, postgres_url: str) -> None:
    driver, users, expected = EXPECTED[module]
    found, cell = run_app(module, tmp_path, postgres_url, driver, users)
    print(f"\n{module}: expected {sorted(expected)} found {sorted(found)} wall {cell.wall_s:.1f} s")
    for finding in cell.findings:
        print(f"    {finding.kind}: {finding.summary}")
    # Findings decided at the edge of their threshold (borderline) may come and go with
    # the machine's load: the app's own mistake must be found, nothing else for certain.
    firm = {f.kind for f in cell.findings if f.severity != "info" and not _borderline(f)}
    assert expected <= found and firm <= expected, (expected, found)
    if module == "notes":  # its one engine, seen through its pool, settings and all
        assert cell.config.app is not None and cell.config.app.engines_seen == 1
        [engine] = cell.config.app.engines
        assert (engine.backend, engine.driver, engine.poolclass) == ("postgresql", driver, "queue")
        assert (engine.pool_size, engine.max_overflow) == (10, 5)


def _borderline(finding: Finding) -> bool:
    return finding.decided is not None and finding.decided.borderline


def test_the_apps_own_migrations_build_its_schema_on_sqlite(tmp_path: Path) -> None:
    plan = app_plan(
        AppOptions(
            app="notes:app", app_dir=APPS, alembic_ini=APPS / "alembic.ini", duration_s=3,
            databases=["sqlite"], drivers=["aiosqlite"], users=4,
        ),
        tmp_path, 1, ProvisionOptions(),
    )  # fmt: skip
    [cell] = execute(plan).cells
    assert cell.status == "ok", cell.error
    assert cell.load is not None and cell.load.failures == 0
    assert cell.config.app is not None and cell.config.app.schema_from.startswith("alembic ")
    assert {f.kind for f in cell.findings if f.severity != "info"} == set()


def test_the_teams_own_locustfile_drives_the_app(tmp_path: Path, postgres_url: str) -> None:
    found, cell = run_app(
        "notes", tmp_path, postgres_url, "asyncpg", 4, locustfile=APPS / "notes_locustfile.py"
    )
    assert found == set()
    assert cell.load is not None and cell.load.failures == 0
    assert {route.name for route in cell.load.routes} == {"/notes", "/notes/[id]"}
    # No ledger from a team's locustfile: the window is the one configured.
    assert cell.load.duration_s == cell.config.duration_s
    # What the app's own process spent on the load, for the CPU cost per request.
    assert cell.load.target_cpu_s is not None and cell.load.target_cpu_s > 0
    assert cell.config.app is not None and cell.config.app.load.startswith("locustfile ")
    # The probes saw the locustfile's requests (and only the harness's own polls besides).
    assert cell.diagnostics is not None
    assert cell.diagnostics.final.requests.started >= cell.load.requests


def test_requests_the_app_never_answers_are_counted_unfinished(tmp_path: Path) -> None:
    plan = app_plan(
        AppOptions(
            app="upstream:app", app_dir=APPS, duration_s=2, databases=["sqlite"],
            drivers=["aiosqlite"], users=3,
        ),
        tmp_path, 1, ProvisionOptions(),
    )  # fmt: skip
    [cell] = execute(plan).cells
    load = cell.load
    assert load is not None, cell.error
    # The generated mix's one route hangs: each user's request is killed unanswered at
    # the stop and counted, its latency a lower bound, and the window is the measured one.
    assert load.unfinished == 3 and load.requests == 3 and load.error_rate == 1.0
    assert all(ms >= 2000 for ms in load.unfinished_elapsed_ms)
    assert 1.5 < load.duration_s < 4
    assert "failed-requests" in {f.kind for f in cell.findings}
