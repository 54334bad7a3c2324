"""The same targets under two FastAPI versions, in environments built by uv, for real.

FastAPI 0.115 runs a `yield` dependency's exit code before the response; 0.165 (default
request scope) after it.  Seed 003 commits after `yield`: a lost write on 0.165 only.
`async-session` commits in its dependency with `scope="function"`; on 0.115, which has no
`scope`, a plain `Depends()` does the same (measured), so it is healthy on both.

The environments are cached in one temp dir for the whole test session; uv's own
download cache is the user's, so only the first run on a machine downloads wheels.
"""

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from sessionbench.bench import compare_command
from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.bench.venvs import CACHE_ENV, prepared
from sessionbench.bench.versions import across, parse_sets
from sessionbench.errors import ExitCode
from sessionbench.results import CellResult, RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.inventory import SESSION_PACKAGES
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

pytestmark = pytest.mark.integration

BEFORE, AFTER = "fastapi==0.115.*", "fastapi==0.165.*"


@pytest.fixture(scope="session", autouse=True)
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("venvs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(path))
        yield path


def run_under_sets(
    output: Path,
    strategy_names: list[str],
    database: str,
    sets: list[str],
    progress: list[str],
    **provision: str,
) -> RunResult:
    registry = strategies()
    cells = expand(
        [registry.get(name) for name in strategy_names],
        [DATABASES.get(database)],
        [POOLS.get("large")],
        [load_scenarios().get("crud")],
        duration_s=3,
        users=8,
    )
    version_sets = parse_sets([], sets)
    with prepared(version_sets, progress.append) as (environments, unavailable):
        plan = RunPlan(
            across(cells, version_sets), output, ProvisionOptions(**provision),
            environments=environments, unavailable=unavailable,
        )  # fmt: skip
        return execute(plan)


def _by_strategy_and_set(result: RunResult) -> dict[tuple[str, str], CellResult]:
    return {(c.config.strategy, c.config.version_set): c for c in result.cells}


def _kinds(cell: CellResult) -> set[str]:
    return {f.kind for f in cell.findings if f.severity != "info"}


@pytest.mark.postgres
def test_commit_after_yield_loses_writes_only_where_fastapi_answers_first(
    tmp_path: Path, postgres_url: str
) -> None:
    progress: list[str] = []
    result = run_under_sets(
        tmp_path, ["seed-003-async", "async-session"], "postgres", [BEFORE, AFTER], progress,
        postgres_url=postgres_url,
    )  # fmt: skip
    assert not result.skipped and not result.skipped_cells, result.skipped_cells
    cells = _by_strategy_and_set(result)
    assert len(cells) == 4
    for (_strategy, version_set), cell in cells.items():
        assert cell.status == "ok", cell.error
        assert cell.load is not None and cell.load.requests > 0
        assert cell.config.id.endswith(f"/{version_set}")
        assert set(SESSION_PACKAGES) - {"uvloop"} <= cell.config.packages.keys()
    assert cells["seed-003-async", BEFORE].config.packages["fastapi"].startswith("0.115.")
    assert cells["seed-003-async", AFTER].config.packages["fastapi"].startswith("0.165.")

    before, after = cells["seed-003-async", BEFORE], cells["seed-003-async", AFTER]
    assert "lost-write" in _kinds(after), [f.summary for f in after.findings]
    assert "lost-write" not in _kinds(before), [f.summary for f in before.findings]
    # Measured, not missed: every commit before its response on 0.115, after it on 0.165.
    readings = [c.diagnostics.final for c in (before, after) if c.diagnostics]
    assert len(readings) == 2 and all(r is not None and r.commits.commits > 0 for r in readings)
    assert [r.commits.commits_after_response > 0 for r in readings if r] == [False, True]
    # The rest of the pattern is the same on both: a new engine per request.
    assert "engine-per-request" in _kinds(before) & _kinds(after)
    for version_set in (BEFORE, AFTER):
        healthy = cells["async-session", version_set]
        assert _kinds(healthy) == set(), [f.summary for f in healthy.findings]
    assert sum("building an environment" in line for line in progress) <= 2

    # The upgrade as the candidate, within the one results file: the gate catches it.
    printed = io.StringIO()
    code = compare_command.run(
        base=tmp_path / "results.json", new=tmp_path / "results.json", fail_on="rps:-10%",
        console=Console(file=printed, width=200), base_set=BEFORE, new_set=AFTER,
    )  # fmt: skip
    assert code == ExitCode.CHECK_FAILED, printed.getvalue()
    assert "lost-write" in printed.getvalue()
    assert "packages: fastapi 0.115." in printed.getvalue()


def test_sets_that_cannot_run_the_target_skip_their_cells_with_the_reason(
    tmp_path: Path,
) -> None:
    lacks_scope, too_old, missing = "fastapi==0.119.*", "sqlalchemy==1.4.*", "fastapi==0.999"
    progress: list[str] = []
    result = run_under_sets(
        tmp_path, ["async-session"], "sqlite", [lacks_scope, too_old, missing, "installed"],
        progress,
    )  # fmt: skip
    reasons = {skipped.version_set: skipped.reason for skipped in result.skipped_cells}
    assert "FastAPI 0.119" in reasons[lacks_scope] and "Depends(scope=...)" in reasons[lacks_scope]
    assert reasons[too_old].startswith("the target code does not import: ImportError")
    assert reasons[missing].startswith("does not resolve:") and "\n" not in reasons[missing]
    # The other cell ran.
    assert [(c.config.version_set, c.status) for c in result.cells] == [("", "ok")]
    assert (tmp_path / "results.json").exists()

    # A second use of a set finds its environment in the cache.
    again: list[str] = []
    with prepared(parse_sets([], [lacks_scope]), again.append) as (environments, _):
        assert environments[parse_sets([], [lacks_scope])[0].label].python.executable.startswith(
            os.environ[CACHE_ENV]
        )
    assert any("cached environment" in line for line in again), again
    assert not any("building" in line for line in again), again
