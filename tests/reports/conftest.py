from pathlib import Path

import pytest

from sessionbench.bench.resultfile import load_result
from sessionbench.results import SCHEMA_VERSION, RunResult

GOLDEN = Path(__file__).parents[1] / "golden" / f"results-v{SCHEMA_VERSION}.json"


@pytest.fixture
def run() -> RunResult:
    """Two cells: healthy async-session, sync-in-async with its expected blocking finding.

    Run strings carry `<script>` so that every writer's escaping is exercised."""
    return load_result(GOLDEN)
