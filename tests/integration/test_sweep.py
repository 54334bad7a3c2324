"""A real sweep on Postgres: two pool sizes at one users level; the figures, the knee and
the server arithmetic are derived from the saved results file alone."""

from pathlib import Path

import pytest

from sessionbench.bench.databases.catalogue import DATABASES, ProvisionOptions
from sessionbench.bench.report_command import write_default_reports
from sessionbench.bench.resultfile import load_result
from sessionbench.bench.runner import execute
from sessionbench.bench.sweep_command import plan
from sessionbench.reports.sweep_analysis import analyse
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.sweep_record import SweepRecord
from sessionbench.targets.registry import strategies

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_a_sweep_finds_the_pool_that_stops_the_queue(tmp_path: Path, postgres_url: str) -> None:
    # 8 users on 50 ms queries: 2 connections queue them, 8 serve each user its own.
    record = SweepRecord(
        strategy="async-session", database="postgres", scenario="slow", pool_sizes=[2, 8],
        users=[8],
    )  # fmt: skip
    run_plan, _ = plan(
        record, strategies().get("async-session"), DATABASES.get("postgres"),
        load_scenarios().get("slow"), duration_s=3, repeat=1, budget_s=60,
        output_dir=tmp_path, provision=ProvisionOptions(postgres_url=postgres_url),
    )  # fmt: skip
    execute(run_plan)
    saved = load_result(tmp_path / "results.json")
    assert saved.sweep is not None and saved.sweep.server is not None
    limits = saved.sweep.server
    assert limits.max_connections and limits.available and limits.available < limits.max_connections
    analysis = analyse(saved)
    assert analysis is not None
    small, large = analysis.points
    assert (small.pool_size, large.pool_size) == (2, 8)
    assert small.server_connections == 2 and large.server_connections is not None
    assert 2 < large.server_connections <= 8
    assert small.wait_share is not None and large.wait_share is not None
    assert small.wait_share > 0.3 > large.wait_share  # 2 connections for 8 users queue
    assert small.rps is not None and large.rps is not None and large.rps > 2 * small.rps
    assert analysis.recommended == 8
    assert analysis.arithmetic is not None and analysis.arithmetic.needed == 8
    [markdown_path] = [p for p in write_default_reports(saved, tmp_path) if p.suffix == ".md"]
    assert "recommended pool_size 8" in markdown_path.read_text()
    assert (tmp_path / "summary-sweep.svg").exists()
