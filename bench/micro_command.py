"""`sessionbench micro`: run the pytest-benchmark suite and keep its results.

pytest runs in its own process with the suite's own ini file; pytest-benchmark's JSON
is stored as `micro-benchmark.json` beside `results.json`, whose `micro` list gets a
summary of each benchmark so that every report shows them.  With `--results`, the
summaries are added to an existing run; otherwise a new results.json is written.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sessionbench.errors import ExitCode, SessionbenchError, UsageError
from sessionbench.results import MicroBenchmark, RunResult
from sessionbench.scenarios import micro

from .fingerprint import environment
from .resultfile import load_result

SUITE = Path(micro.__file__).parent
DATABASES = ("sqlite", "postgres")


class MicroSuiteFailed(SessionbenchError):
    exit_code = ExitCode.CHECK_FAILED


def pytest_argv(json_path: Path, rounds: int | None) -> list[str]:
    argv = [
        sys.executable, "-m", "pytest", "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE),
        str(SUITE), "-q", f"--benchmark-json={json_path}", "--benchmark-columns=median,iqr,rounds",
    ]  # fmt: skip
    if rounds is not None:  # a quick run: exactly this many rounds, no calibration time
        argv += [
            f"--benchmark-min-rounds={rounds}",
            "--benchmark-max-time=0",
            "--benchmark-warmup=off",
        ]
    return argv


def summaries(report: dict[str, Any]) -> list[MicroBenchmark]:
    """pytest-benchmark's JSON (`benchmarks[].stats`, in seconds) as result entries."""
    return [
        MicroBenchmark(
            name=bench["name"].split("[")[0].removeprefix("bench_")
            + "".join(f"[{v}]" for k, v in (bench.get("params") or {}).items() if k != "database"),
            group=bench.get("group") or "",
            database=(bench.get("params") or {}).get("database", ""),
            median_s=bench["stats"]["median"],
            iqr_s=bench["stats"]["iqr"],
            mean_s=bench["stats"]["mean"],
            stddev_s=bench["stats"]["stddev"],
            rounds=bench["stats"]["rounds"],
        )
        for bench in report["benchmarks"]
    ]


def run(
    *, databases: list[str], output: Path, results: Path | None = None, rounds: int | None = None
) -> Path:
    """Run the suite; returns the results.json that now holds its summaries."""
    unknown = sorted(set(databases) - set(DATABASES))
    if unknown:
        raise UsageError(
            f"unknown micro-benchmark database {unknown[0]!r}; valid: sqlite, postgres"
        )
    run_result = (
        load_result(results)
        if results is not None
        else RunResult(started_at=datetime.now(UTC), command=sys.argv, environment=environment())
    )
    results_path = results or output / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    json_path = results_path.parent / "micro-benchmark.json"
    env = {**os.environ, "SESSIONBENCH_MICRO_DATABASES": ",".join(databases)}
    done = subprocess.run(pytest_argv(json_path, rounds), env=env, check=False)
    if done.returncode != 0 or not json_path.exists():
        raise MicroSuiteFailed(f"the micro-benchmark suite failed (pytest exit {done.returncode})")
    run_result.micro = summaries(json.loads(json_path.read_text()))
    run_result.finished_at = run_result.finished_at or datetime.now(UTC)
    run_result.write(results_path)
    return results_path
