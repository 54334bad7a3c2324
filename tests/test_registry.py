from dataclasses import dataclass

import pytest

from sessionbench.registry import DuplicateNameError, Registry, UnknownNameError
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

CORE = {"sync-in-async", "sync-threadpool", "async-session", "async-scoped"}


@dataclass(frozen=True)
class Entry:
    name: str


def test_duplicate_name_is_an_error() -> None:
    registry: Registry[Entry] = Registry("thing")
    registry.add(Entry("a"))
    with pytest.raises(DuplicateNameError, match="'a' is registered twice"):
        registry.add(Entry("a"))


def test_unknown_name_lists_the_valid_ones() -> None:
    registry: Registry[Entry] = Registry("thing")
    registry.add(Entry("a"))
    registry.add(Entry("b"))
    with pytest.raises(UnknownNameError, match=r"unknown thing 'c'; valid: a, b"):
        registry.get("c")


def test_core_strategies_are_registered_with_their_api() -> None:
    registry = strategies()
    assert set(registry.names()) >= CORE
    assert registry.get("sync-threadpool").api == "sync"
    assert registry.get("async-scoped").api == "async"
    assert registry.get("sync-in-async").expected_findings == ("event-loop-blocking",)


def test_pool_variants_translate_to_engine_arguments() -> None:
    small = POOLS.get("small")
    assert small.capacity == 2
    assert small.engine_kwargs()["pool_timeout"] == 2.0
    null = POOLS.get("null")
    assert null.capacity is None
    assert null.engine_kwargs()["poolclass"].__name__ == "NullPool"


def test_every_scenario_names_known_routes() -> None:
    scenarios = load_scenarios()
    assert {"mixed", "health"} <= set(scenarios.names())
    assert all(s.tasks and s.users > 0 for s in scenarios)


def test_seed_targets_name_their_post_and_stay_out_of_the_default_set() -> None:
    seeds = [s for s in strategies() if "seed" in s.tags]
    assert {s.name for s in seeds} == {
        "seed-000", "seed-001-by-hand", "seed-001-get-db", "seed-002",
        "seed-003-sync", "seed-003-async", "seed-004",
    }  # fmt: skip
    assert all(s.source and "core" not in s.tags for s in seeds)
    assert strategies().get("seed-004").runs_on("postgres")
    assert not strategies().get("seed-004").runs_on("sqlite")
