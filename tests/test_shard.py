from collections import Counter
from dataclasses import replace

import pytest

from sessionbench.bench.databases.catalogue import DATABASES
from sessionbench.bench.matrix import Cell, expand
from sessionbench.bench.shard import expected_s, identity, parse_shard, select, split
from sessionbench.errors import UsageError
from sessionbench.results import Shard
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies


def _matrix(duration_s: float = 5) -> list[Cell]:
    registry, scenarios = strategies(), load_scenarios()
    return expand(
        [registry.get(n) for n in ("sync-threadpool", "async-session", "async-scoped")],
        [DATABASES.get("sqlite"), DATABASES.get("postgres")],
        [POOLS.get("default"), POOLS.get("small")],
        [scenarios.get("mixed"), scenarios.get("slow")],
        duration_s=duration_s,
    )


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_shards_cover_every_cell_exactly_once(count: int) -> None:
    cells = _matrix()
    shards = [select(cells, 3, Shard(index=i, count=count)) for i in range(1, count + 1)]
    seen = Counter(cell.id for shard in shards for cell in shard)
    assert set(seen) == {cell.id for cell in cells}
    assert set(seen.values()) == {1}
    # Each shard keeps the matrix's order, so a database is still provisioned once.
    for shard in shards:
        assert [cells.index(c) for c in shard] == sorted(cells.index(c) for c in shard)


def test_shards_are_balanced_by_expected_time() -> None:
    cells = [replace(c, duration_s=40 if i % 3 else 10) for i, c in enumerate(_matrix())]
    times = [sum(expected_s(c, 2) for c in shard) for shard in split(cells, 2, 5)]
    assert max(times) - min(times) <= max(expected_s(c, 2) for c in cells)
    # One long cell against four short ones: time, not the number of cells, decides.
    long, *short = [replace(c, duration_s=100 if i == 0 else 10) for i, c in enumerate(cells[:5])]
    assert split([*short, long], 1, 2) == [[long], short]


def test_the_split_is_the_same_every_time() -> None:
    first = [[c.id for c in shard] for shard in split(_matrix(), 1, 4)]
    assert first == [[c.id for c in shard] for shard in split(_matrix(), 1, 4)]


def test_more_shards_than_cells_leaves_some_empty() -> None:
    cells = _matrix()[:2]
    assert [len(shard) for shard in split(cells, 1, 3)] == [1, 1, 0]


def test_identity_changes_with_any_setting_of_the_matrix() -> None:
    cells = _matrix()
    same = identity(_matrix(), 3)
    assert identity(cells, 3) == same
    assert identity(cells, 5) != same  # repeats
    assert identity(cells[:-1], 3) != same  # a cell fewer
    assert identity(_matrix(duration_s=6), 3) != same
    assert identity([replace(cells[0], users=99), *cells[1:]], 3) != same


@pytest.mark.parametrize(
    ("text", "message"),
    [("3", "use INDEX/COUNT"), ("0/2", "INDEX 1 to COUNT"), ("3/2", "INDEX 1 to COUNT"),
     ("1/0", "COUNT must be 1"), ("a/b", "use INDEX/COUNT")],
)  # fmt: skip
def test_bad_shards_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_shard(text)
    assert parse_shard(" 2/4 ") == Shard(index=2, count=4)
