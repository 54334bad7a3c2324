"""The recommendation on real runs: a strategy against itself is a tie, a known-bad one
is never recommended."""

from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import DATABASES
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.reports.recommendation import recommend
from sessionbench.reports.summary import summarise
from sessionbench.results import CellResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

pytestmark = pytest.mark.integration
TWIN = "async-session-again"


def _as_twin(cell: CellResult) -> CellResult:
    """An odd repeat of async-session, labelled as a second contender."""
    config = cell.config.model_copy(
        update={"id": cell.config.id.replace("async-session", TWIN), "strategy": TWIN}
    )
    return cell.model_copy(update={"config": config, "repeat": cell.repeat // 2})


def test_a_strategy_against_itself_ties_and_a_bad_one_is_avoided(tmp_path: Path) -> None:
    registry = strategies()
    cells = expand(
        [registry.get("async-session"), registry.get("engine-per-request")],
        [DATABASES.get("sqlite")], [POOLS.get("default")], [load_scenarios().get("crud")],
        duration_s=2, users=8,
    )  # fmt: skip
    # Going round the cells, the even and odd repeats of async-session interleave: two
    # arms of the same code measured alike.  3 against 3 cannot show a difference at
    # 5 % two-sided (1/10 at best), so the same code must come out tied.
    result = execute(RunPlan(cells, tmp_path, repeat=6))
    assert all(cell.status == "ok" for cell in result.cells), [c.error for c in result.cells]
    relabelled = [
        _as_twin(c) if c.config.strategy == "async-session" and c.repeat % 2 else c
        for c in result.cells
    ]
    [group] = recommend(summarise(result.model_copy(update={"cells": relabelled})))
    standings = {p.strategy: p.standing for p in group.places}
    assert standings["engine-per-request"] == "avoid"
    assert sorted([standings["async-session"], standings[TWIN]]) == ["best", "tied"]
    assert "they are tied" in group.sentences[0]
    assert "engine-per-request" not in group.sentences[0]
    assert any(s.startswith("Avoid: engine-per-request") for s in group.sentences)
