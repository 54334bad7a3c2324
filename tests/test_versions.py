"""Version sets: parsing at the CLI edge, the target's requirements, cell ids, selection
for the gate, and where a `yield` dependency's exit code runs on the installed FastAPI."""

from datetime import UTC, datetime
from importlib import metadata

import pytest

from sessionbench.bench.databases.catalogue import DATABASES
from sessionbench.bench.matrix import expand
from sessionbench.bench.venvs import _one_line, cache_dir, environment_key
from sessionbench.bench.versions import (
    across,
    label_of,
    package_changes,
    parse_sets,
    select,
    target_requirements,
)
from sessionbench.errors import UsageError
from sessionbench.results import CellConfig, CellResult, Environment, RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.dependency_scope import exit_runs_before_response, has_scope
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies


def test_with_is_one_set_and_each_with_set_another() -> None:
    sets = parse_sets(["fastapi==0.115.*", "starlette<0.47"], ["installed", "sqlalchemy~=2.0.30"])
    assert [s.label for s in sets] == ["", "sqlalchemy~=2.0.30", "fastapi==0.115.* starlette<0.47"]
    assert sets[0].name == "installed"


def test_no_set_means_sessionbench_s_own_environment() -> None:
    assert [s.label for s in parse_sets([], [])] == [""]


@pytest.mark.parametrize(
    ("with_requirements", "with_sets", "message"),
    [
        (["fastapi=="], [], "requirement 'fastapi==' does not parse"),
        (["fastapi>=0.110;;"], [], "does not parse"),
        ([], ["fastapi==0.115.* >=0.116"], "requirement '>=0.116' does not parse"),
        (["fastapi<1; python_version>'3'"], [], "takes no environment markers"),
        (["fastapi<1", "FastAPI>0.1"], [], "names a package twice"),
        ([], ["fastapi<1", "fastapi<1"], "the same version set is given twice"),
    ],
)
def test_bad_sets_are_usage_errors(
    with_requirements: list[str], with_sets: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("*", r"\*")):
        parse_sets(with_requirements, with_sets)


def test_a_set_replaces_the_pins_of_its_packages_and_adds_the_others() -> None:
    sessionbench_fastapi = f"fastapi=={metadata.version('fastapi')}"
    assert sessionbench_fastapi in target_requirements(parse_sets([], ["installed"])[0])
    requirements = target_requirements(parse_sets(["fastapi==0.115.*", "starlette<0.47"], [])[0])
    assert "fastapi==0.115.*" in requirements and "starlette<0.47" in requirements
    assert not any(r.startswith("fastapi==0.1") and r != "fastapi==0.115.*" for r in requirements)
    # The rest is pinned to sessionbench's own versions, extras kept; harness tools left out.
    assert f"sqlalchemy[asyncio]=={metadata.version('sqlalchemy')}" in requirements
    assert f"psycopg[binary]=={metadata.version('psycopg')}" in requirements
    assert not any(r.startswith(("locust", "alembic", "scipy")) for r in requirements)


def test_cells_under_sets_have_distinct_ids_and_stay_grouped_by_database() -> None:
    registry, scenarios = strategies(), load_scenarios()
    cells = expand(
        [registry.get("async-session"), registry.get("seed-003-async")],
        [DATABASES.get("postgres"), DATABASES.get("mysql")],
        [POOLS.get("default")],
        [scenarios.get("crud")],
        duration_s=5,
    )
    crossed = across(cells, parse_sets([], ["installed", "fastapi==0.115.*"]))
    assert len(crossed) == 2 * len(cells)
    assert len({c.id for c in crossed}) == len(crossed)
    assert [c.database.name for c in crossed] == ["postgres"] * 4 + ["mysql"] * 4
    assert crossed[0].id == "async-session/postgres+asyncpg/default/crud"
    assert crossed[1].id == "async-session/postgres+asyncpg/default/crud/fastapi==0.115.*"


def _cell(strategy: str, version_set: str, fastapi: str) -> CellResult:
    suffix = f"/{version_set}" if version_set else ""
    config = CellConfig(
        id=f"{strategy}/postgres+asyncpg/default/crud{suffix}", strategy=strategy,
        database="postgres", driver="asyncpg", database_url="postgresql://x", pool=POOLS.get(
            "default"), scenario="crud", users=4, duration_s=2, tasks={}, slow_ms=50,
        version_set=version_set, packages={"fastapi": fastapi, "sqlalchemy": "2.1.9"},
    )  # fmt: skip
    return CellResult(config=config, status="ok", started_at=datetime.now(UTC), wall_s=1)


def _result(*cells: CellResult) -> RunResult:
    environment = Environment(
        python="3.11", platform="linux", cpu_count=2, sessionbench="0", git_commit=None,
        packages={},
    )  # fmt: skip
    return RunResult(
        started_at=datetime.now(UTC), command=[], environment=environment, cells=list(cells)
    )


def test_select_keeps_one_set_and_renames_its_cells_for_the_gate() -> None:
    both = _result(
        _cell("async-session", "", "0.165.0"),
        _cell("async-session", "fastapi==0.115.*", "0.115.14"),
    )
    old = select(both, label_of("fastapi==0.115.*"), "BASE")
    new = select(both, label_of("installed"), "NEW")
    assert [c.config.id for c in old.cells] == ["async-session/postgres+asyncpg/default/crud"]
    assert [c.config.id for c in new.cells] == [c.config.id for c in old.cells]
    assert old.cells[0].config.packages["fastapi"] == "0.115.14"
    assert package_changes(old, new) == ["fastapi 0.115.14 -> 0.165.0"]


def test_selecting_a_set_a_file_does_not_have_names_the_sets_it_has() -> None:
    with pytest.raises(UsageError, match=r"NEW has no cells under version set 'fastapi<1'; it has"):
        select(_result(_cell("async-session", "", "0.165.0")), label_of("fastapi<1"), "NEW")


def test_the_installed_fastapi_runs_the_exit_code_after_the_response_by_default() -> None:
    # Measured through one real request: FastAPI >= 0.121 has `scope`, and its default
    # ("request") answers before the dependency's exit code runs (DESIGN.md).
    assert has_scope()
    assert exit_runs_before_response() is False


def test_uv_errors_become_one_line() -> None:
    stderr = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because there is no version of fastapi==0.999, we can conclude ...\n"
    )
    assert _one_line(stderr) == (
        "No solution found when resolving dependencies Because there is no version of "
        "fastapi==0.999, we can conclude ..."
    )


def test_environments_are_named_by_what_they_resolve_to(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert environment_key(["a==1", "b==2"]) == environment_key(["a==1", "b==2"])
    assert environment_key(["a==1", "b==2"]) != environment_key(["a==1", "b==3"])
    monkeypatch.setenv("SESSIONBENCH_VENV_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def test_a_set_keeps_the_extras_the_target_needs_and_its_own_label() -> None:
    version_set = parse_sets(["psycopg==3.2.*"], [])[0]
    assert "psycopg[binary]==3.2.*" in target_requirements(version_set)
    assert version_set.label == "psycopg==3.2.*"
