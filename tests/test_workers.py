import json
from pathlib import Path

import pytest

from sessionbench.bench.consistency import acknowledged_ids
from sessionbench.bench.resultfile import load_result
from sessionbench.bench.workers import Workers, check_workers, worker_file, worker_files
from sessionbench.errors import UsageError
from sessionbench.reports.terminal import render
from sessionbench.results import SCHEMA_VERSION, LoadResult

GOLDEN = Path(__file__).parent / "golden" / f"results-v{SCHEMA_VERSION}.json"


def test_workers_are_checked_at_the_edge() -> None:
    assert check_workers(0, 0, None) is None
    assert check_workers(2, 0, None) == Workers(local=2)
    assert check_workers(1, 3, "10.0.0.5:5557") == Workers(1, 3, "10.0.0.5", 5557)
    for args, message in [
        ((-1, 0, None), "between 0 and 64"),
        ((0, 2, None), "--remote-workers needs --master-bind"),
        ((0, 0, "127.0.0.1:5557"), "--master-bind needs --workers"),
        ((1, 0, "nohost"), "use HOST:PORT"),
        ((1, 0, "h:99999"), "use HOST:PORT"),
    ]:
        with pytest.raises(UsageError, match=message):
            check_workers(*args)  # type: ignore[arg-type]


def test_each_worker_has_its_own_side_file_and_all_are_read(tmp_path: Path) -> None:
    ack = tmp_path / "acknowledged.json"
    for index, ids in [(1, [1, 2]), (2, [3]), (10, [4, 5])]:
        worker_file(ack, index).write_text(json.dumps(ids))
    assert [p.name for p in worker_files(ack)] == [
        "acknowledged-worker-1.json", "acknowledged-worker-2.json", "acknowledged-worker-10.json"
    ]  # fmt: skip
    assert sorted(acknowledged_ids(ack)) == [1, 2, 3, 4, 5]
    ack.write_text("[6]")  # one Locust process writes the file itself
    assert sorted(acknowledged_ids(ack)) == [1, 2, 3, 4, 5, 6]


def _load(cpu: list[float], busiest: float, saturated: bool) -> LoadResult:
    cell = load_result(GOLDEN).cells[0]
    assert cell.load is not None
    return cell.load.model_copy(
        update={"worker_cpu_percent": cpu, "workers": len(cpu), "generator_saturated": saturated,
                "generator_cpu_percent": busiest}
    )  # fmt: skip


def test_workers_needed_follows_the_cpu_the_generator_used() -> None:
    assert _load([], 97, saturated=True).workers_needed == 2  # one process, saturated
    assert _load([], 40, saturated=False).workers_needed == 1
    assert _load([95, 96], 96, saturated=True).workers_needed == 3
    assert _load([40, 50], 50, saturated=False).workers_needed == 2  # 90 % of one core


def test_the_summary_says_how_many_workers_a_saturated_run_needed() -> None:
    run = load_result(GOLDEN)
    assert "saturated" not in render(run)
    assert run.cells[0].load is not None
    run.cells[0].load = _load([95, 96], 96, saturated=True)
    text = " ".join(render(run).split())
    assert "load generator saturated in 1 of 2 cells (2 workers, the busiest at 96 %" in text
    assert "use --workers 3 or more" in text
