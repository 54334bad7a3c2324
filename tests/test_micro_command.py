"""`sessionbench micro` runs the pytest-benchmark suite and its results reach the reports."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sessionbench.bench.resultfile import load_result
from sessionbench.reports import markdown

EXPECTED = {
    "sync_session", "async_session", "async_scoped_session", "sync_checkout[QueuePool]",
    "sync_checkout[NullPool]", "async_adapted_queue_pool_checkout", "scoped_registry_lookup",
}  # fmt: skip


def test_quick_micro_run_stores_pytest_benchmark_json_and_summaries(tmp_path: Path) -> None:
    databases = ["sqlite"] + (["postgres"] if os.environ.get("SESSIONBENCH_POSTGRES_URL") else [])
    argv = [
        sys.executable,
        "-m",
        "sessionbench",
        "micro",
        "--rounds",
        "2",
        "--output",
        str(tmp_path),
    ]
    argv += [arg for db in databases for arg in ("--db", db)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    raw = json.loads((tmp_path / "micro-benchmark.json").read_text())
    assert all(b["stats"]["rounds"] >= 2 for b in raw["benchmarks"])
    result = load_result(tmp_path / "results.json")
    for database in databases:
        names = {m.name for m in result.micro if m.database == database}
        assert names == EXPECTED, database
    assert all(m.median_s > 0 for m in result.micro)
    assert "sync_checkout[NullPool]" in markdown.render(result)


def test_project_tests_do_not_collect_the_micro_suite() -> None:
    root = Path(__file__).resolve().parents[1]
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", str(root / "scenarios")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=root, check=False)
    assert "bench_" not in done.stdout
    assert done.returncode == 5, done.stdout  # pytest's "no tests collected"
