"""The gate: significance and threshold both needed; qualitative regressions always fail."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sessionbench.errors import UsageError
from sessionbench.reports import gate_report
from sessionbench.reports.gate import compare
from sessionbench.reports.thresholds import parse_fail_on
from sessionbench.results import FailureKind, Finding, RunResult

THRESHOLDS = parse_fail_on("rps:-10%,p99:+20%")


def _repeats(run: RunResult, rps: list[float], p99: float = 50.0) -> RunResult:
    """The golden run's first cell, measured len(rps) times with these throughputs."""
    template = run.cells[0]
    cells = []
    for i, value in enumerate(rps):
        cell = template.model_copy(deep=True)
        cell.repeat = i
        assert cell.load is not None
        cell.load.requests_per_s, cell.load.p99_ms = value, p99
        cells.append(cell)
    return run.model_copy(update={"cells": cells})


def test_clear_slowdown_with_enough_repeats_fails(run: RunResult) -> None:
    base = _repeats(run, [400, 405, 398, 402, 401])
    new = _repeats(run, [300, 310, 305, 298, 303])
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed
    [regression] = gate.regressions
    assert regression.threshold.metric.name == "rps"
    assert regression.ratio == pytest.approx(303 / 401)


def test_small_significant_change_within_threshold_passes(run: RunResult) -> None:
    gate = compare(
        _repeats(run, [400, 401, 402, 403]), _repeats(run, [380, 381, 382, 383]), THRESHOLDS
    )
    assert not gate.failed
    assert any(c.significant for c in gate.checks)


def test_large_change_that_is_not_significant_passes(run: RunResult) -> None:
    # Overlapping samples: the medians differ by more than 10 %, the test cannot tell.
    gate = compare(
        _repeats(run, [400, 250, 420, 260]), _repeats(run, [330, 410, 240, 300]), THRESHOLDS
    )
    assert not gate.failed


def test_single_runs_gate_only_qualitatively_and_say_so(run: RunResult) -> None:
    gate = compare(_repeats(run, [400]), _repeats(run, [100]), THRESHOLDS)
    assert not gate.failed
    assert any("cannot be significant" in w for w in gate.warnings)


def test_new_finding_or_error_kind_fails_regardless_of_numbers(run: RunResult) -> None:
    base, new = _repeats(run, [400]), _repeats(run, [400])
    new.cells[0].findings.append(
        Finding(kind="connection-leak", severity="error", summary="3 connections held",
                evidence={}, explanation="", hint="")
    )  # fmt: skip
    assert new.cells[0].load is not None
    new.cells[0].load.failures_by_kind.append(
        FailureKind(method="GET", name="/items", error="500", occurrences=1)
    )
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed
    assert {q.what for q in gate.qualitative} == {"new finding", "new error"}


def test_unstable_metric_and_environment_change_warn(run: RunResult) -> None:
    new = _repeats(run, [400, 200, 600])
    new.environment = new.environment.model_copy(update={"cpu_count": 64})
    gate = compare(_repeats(run, [400, 401, 402]), new, THRESHOLDS)
    assert any("unstable in the new run" in w for w in gate.warnings)
    assert any("environments differ, cpu_count: 2 -> 64" in w for w in gate.warnings)


def test_verdict_reports_render(run: RunResult) -> None:
    base, new = _repeats(run, [400, 405, 398, 402, 399]), _repeats(run, [300, 310, 305, 301, 309])
    gate = compare(base, new, THRESHOLDS)
    assert "❌ regression" in gate_report.markdown(gate)
    failures = ET.fromstring(gate_report.junit(gate)).findall(".//failure")
    assert len(failures) == 1 and "throughput" in failures[0].get("message", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rps:+10%", "rps gets worse when it goes -"),
        ("speed:-10%", "unknown metric 'speed'"),
        ("p99:20", "invalid --fail-on item"),
        ("p99:+150%", "must be in"),
    ],
)
def test_bad_gate_strings_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_fail_on(text)


def test_compare_command_exit_codes(run: RunResult, tmp_path: Path) -> None:
    paths = {}
    for name, rps in {
        "base": [400, 405, 398, 402, 399],
        "same": [401, 399, 404, 400, 403],
        "slow": [300, 310, 305, 301, 309],
    }.items():
        paths[name] = tmp_path / f"{name}.json"
        _repeats(run, rps).write(paths[name])

    def sessionbench(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "sessionbench", "compare", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert sessionbench(str(paths["base"]), str(paths["same"])).returncode == 0
    junit = tmp_path / "gate.xml"
    slow = sessionbench(str(paths["base"]), str(paths["slow"]), "--junit", str(junit))
    assert slow.returncode == 1, slow.stderr
    assert "regression" in slow.stdout and junit.exists()
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"schema_version": 2, "ce')
    bad = sessionbench(str(paths["base"]), str(corrupt))
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "not valid JSON" in bad.stderr


def _finding(kind: str, severity: str) -> Finding:
    return Finding(kind=kind, severity=severity, summary="", evidence={}, explanation="", hint="")  # type: ignore[arg-type]


def test_a_finding_gates_only_when_most_new_repeats_show_it(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    new = _repeats(run, [400, 401, 402])
    new.cells[0].findings.append(_finding("event-loop-blocking", "error"))
    new.cells[1].findings.append(_finding("gc-pauses", "info"))
    new.cells[2].findings.append(_finding("gc-pauses", "info"))
    assert not compare(base, new, THRESHOLDS).failed
    new.cells[1].findings.append(_finding("event-loop-blocking", "error"))
    assert compare(base, new, THRESHOLDS).failed  # now in most repeats
