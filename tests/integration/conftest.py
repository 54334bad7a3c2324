import os
from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.databases.containers import IMAGE_ENV, DockerUnavailable, docker_client
from sessionbench.bench.matrix import expand
from sessionbench.bench.runner import RunPlan, execute
from sessionbench.results import RunResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

pytestmark = pytest.mark.integration


@pytest.fixture
def docker_engine() -> None:
    """A Docker engine and an image that starts without a registry, or the test skips."""
    if IMAGE_ENV not in os.environ:
        pytest.skip(f"{IMAGE_ENV} is not set (no image that starts without a registry)")
    try:
        docker_client().close()
    except DockerUnavailable as exc:
        pytest.skip(str(exc))


def run_cells(
    output: Path,
    strategy_names: list[str],
    database: str,
    scenario: str,
    *,
    postgres_url: str | None = None,
    mysql_url: str | None = None,
    duration_s: float = 3,
    users: int = 8,
    pool: str = "default",
    rate: tuple[float, ...] = (),
) -> RunResult:
    registry = strategies()
    cells = expand(
        [registry.get(n) for n in strategy_names],
        [DATABASES.get(database)],
        [POOLS.get(pool)],
        [load_scenarios().get(scenario)],
        duration_s=duration_s,
        users=users,
        rate=rate,
    )
    provision = ProvisionOptions(postgres_url=postgres_url, mysql_url=mysql_url)
    return execute(RunPlan(cells, output, provision))
