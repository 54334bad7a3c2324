"""The five posts' patterns, run for real on every database each supports, diagnosed.

One short run per database (scenario "mixed": reads, writes, transfers, slow queries,
the error path and /health); each seed's findings must be the ones its descriptor
expects.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sessionbench.results import CellResult, RunResult
from sessionbench.targets.registry import strategies

from ..conftest import MYSQL_URL_ENV, POSTGRES_URL_ENV
from .conftest import run_cells

pytestmark = pytest.mark.integration

SEEDS_BY_DATABASE = {
    "sqlite": ["seed-000", "seed-001-by-hand", "seed-001-get-db"],
    "postgres": ["seed-003-sync", "seed-003-async", "seed-004"],
    "mysql": ["seed-002", "seed-003-sync", "seed-003-async"],
}
URL_ENVS = {"postgres": POSTGRES_URL_ENV, "mysql": MYSQL_URL_ENV}
Run = tuple[Path, dict[str, CellResult]]


def _cells(result: RunResult) -> dict[str, CellResult]:
    assert not result.skipped, result.skipped
    return {cell.config.strategy: cell for cell in result.cells}


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Each database's seeds run once for the whole module, on first use."""
    runs: dict[str, Run] = {}

    def run(database: str) -> Run:
        if database not in runs:
            urls = {}
            if database in URL_ENVS:
                url = os.environ.get(URL_ENVS[database])
                if not url:
                    pytest.skip(f"{URL_ENVS[database]} is not set")
                urls[f"{database}_url"] = url
            output = tmp_path_factory.mktemp(database)
            result = run_cells(output, SEEDS_BY_DATABASE[database], database, "mixed", **urls)
            runs[database] = (output, _cells(result))
        return runs[database]

    return run


def _params() -> list[object]:
    return [
        pytest.param(
            database,
            name,
            id=f"{database}-{name}",
            marks=[getattr(pytest.mark, database)] if database in URL_ENVS else [],
        )
        for database, names in SEEDS_BY_DATABASE.items()
        for name in names
    ]


@pytest.mark.parametrize(("database", "name"), _params())
def test_seed_gets_its_expected_diagnosis(
    database: str, name: str, seed_run: Callable[[str], Run]
) -> None:
    cell = seed_run(database)[1][name]
    assert cell.status == "ok", cell.error
    assert cell.load is not None and cell.load.requests > 0
    strategy = strategies().get(name)
    found = {f.kind for f in cell.findings if f.severity != "info"}
    assert found == set(strategy.expected_findings), [f.summary for f in cell.findings]


def test_in_memory_sqlite_is_reported_as_errors_not_a_crash(
    seed_run: Callable[[str], Run],
) -> None:
    cells = seed_run("sqlite")[1]
    for name in ("seed-001-by-hand", "seed-001-get-db"):
        cell = cells[name]
        assert cell.status == "ok", cell.error
        assert cell.config.database_url == "sqlite:///:memory:"
        assert cell.load is not None
        reads = [r for r in cell.load.routes if r.name in {"/items/{id}", "/items"}]
        # Every threadpool thread opens its own, empty in-memory database.
        assert reads and all(r.failures == r.requests for r in reads), name
        errors = {f.error for f in cell.load.failures_by_kind}
        assert any("no such table: items" in error for error in errors), errors
        health = next(r for r in cell.load.routes if r.name == "/health")
        assert health.requests > 0 and health.failures == 0
