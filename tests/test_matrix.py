from sessionbench.bench.databases.catalogue import DATABASES
from sessionbench.bench.matrix import expand
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies


def test_expansion_is_the_full_product_grouped_by_database() -> None:
    registry, scenarios = strategies(), load_scenarios()
    cells = expand(
        [registry.get("sync-threadpool"), registry.get("async-session")],
        [DATABASES.get("sqlite"), DATABASES.get("postgres")],
        [POOLS.get("default"), POOLS.get("small")],
        [scenarios.get("mixed")],
        duration_s=5,
    )
    assert len(cells) == 2 * 2 * 2
    assert [c.database.name for c in cells] == ["sqlite"] * 4 + ["postgres"] * 4
    assert len({c.id for c in cells}) == len(cells)
    assert all(c.users == scenarios.get("mixed").users for c in cells)


def test_driver_follows_the_strategy_api_and_the_async_choice() -> None:
    registry, scenarios = strategies(), load_scenarios()
    cells = expand(
        [registry.get("sync-in-async"), registry.get("async-scoped")],
        [DATABASES.get("sqlite"), DATABASES.get("postgres")],
        [POOLS.get("default")],
        [scenarios.get("crud")],
        duration_s=5,
        users=3,
        async_driver="psycopg",
    )
    drivers = {(c.strategy.name, c.database.name): c.driver for c in cells}
    assert drivers == {
        ("sync-in-async", "sqlite"): "pysqlite",
        ("async-scoped", "sqlite"): "aiosqlite",
        ("sync-in-async", "postgres"): "psycopg",
        ("async-scoped", "postgres"): "psycopg",
    }
    assert {c.users for c in cells} == {3}
    assert cells[0].slug == "sync-in-async_sqlite+pysqlite_default_crud"


def test_a_seed_appears_only_with_the_databases_its_pattern_runs_on() -> None:
    cells = expand(
        [strategies().get("seed-002"), strategies().get("sync-in-async")],
        [DATABASES.get("sqlite"), DATABASES.get("mysql")],
        [POOLS.get("default")],
        [load_scenarios().get("crud")],
        duration_s=1,
    )
    assert [c.id for c in cells] == [
        "sync-in-async/sqlite+pysqlite/default/crud",
        "seed-002/mysql+pymysql/default/crud",
        "sync-in-async/mysql+pymysql/default/crud",
    ]


def test_an_open_model_cell_names_its_rate_and_sizes_its_pool() -> None:
    [stepped] = expand(
        [strategies().get("async-session")],
        [DATABASES.get("sqlite")],
        [POOLS.get("default")],
        [load_scenarios().get("slow")],
        duration_s=6,
        rate=(20.0, 40.0, 80.5),
    )
    assert stepped.id == "async-session/sqlite+aiosqlite/default/slow@rate=20,40,80.5"
    assert stepped.users == 81  # one second of the peak rate's arrivals
    [pooled] = expand(
        [strategies().get("async-session")],
        [DATABASES.get("sqlite")],
        [POOLS.get("default")],
        [load_scenarios().get("slow")],
        duration_s=6,
        users=5,
        rate=(50.0,),
    )
    assert pooled.users == 5
