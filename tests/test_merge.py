"""Merging shards: only shards of one matrix, each once; the gate and the reports read
a merged file as they read one file holding the same runs."""

import subprocess
import sys
from pathlib import Path

import pytest

from sessionbench.bench.merge_command import MergeError
from sessionbench.bench.merge_command import run as merge
from sessionbench.bench.resultfile import load_result
from sessionbench.reports.gate import compare
from sessionbench.reports.thresholds import parse_fail_on
from sessionbench.results import SCHEMA_VERSION, RunResult, Shard

GOLDEN = Path(__file__).parent / "golden" / f"results-v{SCHEMA_VERSION}.json"
THRESHOLDS = parse_fail_on("rps:-10%,p99:+20%")


def _run(rps: dict[int, list[float]], shard: Shard | None = None, matrix: str = "m1") -> RunResult:
    """The golden run's cells (index -> throughput of each repeat), as one shard of
    `matrix` if `shard` is given."""
    golden = load_result(GOLDEN)
    cells = []
    for index, values in rps.items():
        for repeat, value in enumerate(values):
            cell = golden.cells[index].model_copy(deep=True)
            cell.repeat, cell.shard = repeat, shard.index if shard else None
            assert cell.load is not None
            cell.load.requests_per_s = value
            cells.append(cell)
    return golden.model_copy(update={"cells": cells, "matrix": matrix, "shard": shard})


def _write(path: Path, run: RunResult) -> Path:
    run.write(path)
    return path


# Cell 0 slows down by a quarter, cell 1 holds steady.
BASE = {0: [400, 405, 398, 402, 401], 1: [30, 31, 29, 30, 31]}
NEW = {0: [300, 310, 305, 298, 303], 1: [30, 29, 31, 30, 30]}


def _sharded(tmp_path: Path, side: str, rps: dict[int, list[float]]) -> list[Path]:
    """Shard 1 measured cell 0, shard 2 cell 1, on a machine with more CPUs."""
    first = _run({0: rps[0]}, Shard(index=1, count=2))
    second = _run({1: rps[1]}, Shard(index=2, count=2))
    second.environment = second.environment.model_copy(update={"cpu_count": 64})
    return [_write(tmp_path / f"{side}-1.json", first), _write(tmp_path / f"{side}-2.json", second)]


def test_the_gate_on_merged_shards_agrees_with_one_file(tmp_path: Path) -> None:
    whole = compare(_run(BASE), _run(NEW), THRESHOLDS)
    for side, rps in (("base", BASE), ("new", NEW)):
        merge(results=_sharded(tmp_path, side, rps), output=tmp_path / f"{side}.json", command=[])
    merged = compare(
        load_result(tmp_path / "base.json"), load_result(tmp_path / "new.json"), THRESHOLDS
    )
    assert merged.failed and whole.failed
    assert [(c.cell, c.threshold.metric.name, c.change) for c in merged.regressions] == [
        (c.cell, c.threshold.metric.name, c.change) for c in whole.regressions
    ]
    assert [c.p_adjusted for c in merged.checks] == [c.p_adjusted for c in whole.checks]
    # Shard 2 ran on another machine on both sides: each cell's sides match.
    assert merged.warnings == whole.warnings
    assert merged.mismatches == whole.mismatches


def test_a_shard_on_another_machine_than_its_baseline_is_warned_about(tmp_path: Path) -> None:
    merge(results=_sharded(tmp_path, "base", BASE), output=tmp_path / "base.json", command=[])
    new = [_run({0: NEW[0]}, Shard(index=1, count=2)), _run({1: NEW[1]}, Shard(index=2, count=2))]
    paths = [_write(tmp_path / f"new-{i}.json", run) for i, run in enumerate(new)]
    merge(results=paths, output=tmp_path / "new.json", command=[])
    gate = compare(
        load_result(tmp_path / "base.json"), load_result(tmp_path / "new.json"), THRESHOLDS
    )
    assert [w for w in gate.mismatches if "environments" in w] == [
        "environments differ on shard 2, cpu_count: 64 in the base, 2 in the new run"
    ]


def test_merged_file_keeps_each_shards_environment_and_cells(tmp_path: Path) -> None:
    output = tmp_path / "merged.json"
    assert merge(results=_sharded(tmp_path, "base", BASE)[::-1], output=output, command=["m"]) == 10
    merged = load_result(output)
    assert [s.shard.index for s in merged.shards] == [1, 2]
    assert [s.environment.cpu_count for s in merged.shards] == [2, 64]
    assert [c.shard for c in merged.cells] == [1] * 5 + [2] * 5
    assert merged.matrix == "m1" and merged.shard is None and merged.command == ["m"]
    # A merged file merges again, as the shards it holds.
    again = tmp_path / "again.json"
    merge(results=[output], output=again, command=["m"])
    assert load_result(again).cells == merged.cells


def _refusal(tmp_path: Path, runs: list[RunResult], partial: bool = False) -> str:
    paths = [_write(tmp_path / f"in-{i}.json", run) for i, run in enumerate(runs)]
    with pytest.raises(MergeError) as refused:
        merge(results=paths, output=tmp_path / "out.json", command=[], partial=partial)
    assert not (tmp_path / "out.json").exists()
    return str(refused.value)


def test_merge_refuses_what_is_not_one_matrix_each_shard_once(tmp_path: Path) -> None:
    one, two = Shard(index=1, count=2), Shard(index=2, count=2)
    assert "another matrix" in _refusal(tmp_path, [_run(BASE, one), _run(BASE, two, "m2")])
    assert "shard 1/2 is in both" in _refusal(tmp_path, [_run(BASE, one), _run(BASE, one)])
    assert "splits the matrix in 3 shards" in _refusal(
        tmp_path, [_run(BASE, one), _run(BASE, Shard(index=2, count=3))]
    )
    assert "shard(s) 2 of 2 missing" in _refusal(tmp_path, [_run(BASE, one)])
    old = _run(BASE, one).model_copy(update={"matrix": None})
    assert "no matrix identity" in _refusal(tmp_path, [old])


def test_partial_merges_only_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.json", _run(BASE, Shard(index=1, count=3)))
    merge(results=[path], output=tmp_path / "out.json", command=[], partial=True)
    assert [s.shard.index for s in load_result(tmp_path / "out.json").shards] == [1]


def _sessionbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionbench", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_refuses_different_schema_versions_in_one_line(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.json", _run(BASE, Shard(index=1, count=2)))
    older = GOLDEN.with_name(f"results-v{SCHEMA_VERSION - 1}.json")  # loads, upgraded
    result = _sessionbench("merge", str(one), str(older), "--output", str(tmp_path / "x.json"))
    errors = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(errors) == 1, result.stderr
    assert f"has schema version {SCHEMA_VERSION - 1}" in errors[0], errors
    assert "Traceback" not in result.stderr and not (tmp_path / "x.json").exists()


def test_cli_merge_then_report_and_compare(tmp_path: Path) -> None:
    for side, rps in (("base", BASE), ("new", NEW)):
        paths = [str(p) for p in _sharded(tmp_path, side, rps)]
        merged = _sessionbench("merge", *paths, "--output", str(tmp_path / f"{side}.json"))
        assert merged.returncode == 0 and "merged 10 cells" in merged.stdout, merged.stderr
    report = _sessionbench("report", str(tmp_path / "new.json"), "--format", "md")
    assert report.returncode == 0 and "async-session" in report.stdout, report.stderr
    assert "Merged from 2 of 2 shards" in report.stdout
    assert "different environments: compare within a shard" in report.stdout
    gate = _sessionbench("compare", str(tmp_path / "base.json"), str(tmp_path / "new.json"))
    assert gate.returncode == 1, gate.stdout + gate.stderr


def test_an_empty_shard_runs_nothing_and_merges_with_the_others(tmp_path: Path) -> None:
    # One cell split in two: shard 2 is empty, so this needs no load.
    result = _sessionbench(
        "run", "-s", "async-session", "--shard", "2/2", "--output", str(tmp_path / "s2")
    )
    assert result.returncode == 0, result.stderr
    assert "shard 2/2: 0 of 1 cells" in result.stdout
    empty = load_result(tmp_path / "s2" / "results.json")
    assert empty.shard == Shard(index=2, count=2) and not empty.cells and empty.matrix
    first = _write(tmp_path / "s1.json", _run(BASE, Shard(index=1, count=2), empty.matrix))
    merge(results=[first, tmp_path / "s2" / "results.json"], output=tmp_path / "m.json", command=[])
    assert len(load_result(tmp_path / "m.json").cells) == 10
