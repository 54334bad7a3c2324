"""The gate: a family fixed in advance, matrix-wide changes, errors, mismatches, power."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sessionbench.errors import UsageError
from sessionbench.reports import gate_export, gate_report
from sessionbench.reports.gate import ALL_CELLS, compare
from sessionbench.reports.thresholds import DEFAULT_FAIL_ON, parse_fail_on
from sessionbench.results import CellResult, FailureKind, Finding, RunResult

THRESHOLDS = parse_fail_on("rps:-10%,p99:+20%")
DEFAULTS = parse_fail_on(DEFAULT_FAIL_ON)
GOLDEN = Path(__file__).parents[1] / "golden"


def _cell(
    run: RunResult, rps: float, p99: float = 50.0, *, name: str = "async-session",
    failures: int = 0, repeat: int = 0,
) -> CellResult:  # fmt: skip
    """The golden run's first cell, with these figures, under another strategy name."""
    cell = run.cells[0].model_copy(deep=True)
    cell.config.id = cell.config.id.replace("async-session", name)
    cell.config.strategy, cell.repeat = name, repeat
    assert cell.load is not None
    cell.load.requests_per_s, cell.load.p99_ms = rps, p99
    cell.load.failures = failures
    if failures:
        cell.load.failures_by_kind = [
            FailureKind(method="GET", name="/items", error="HTTP 503", occurrences=failures)
        ]
    return cell


def _repeats(run: RunResult, rps: list[float], p99: float = 50.0, **kw: object) -> RunResult:
    cells = [_cell(run, v, p99, repeat=i, **kw) for i, v in enumerate(rps)]  # type: ignore[arg-type]
    return run.model_copy(update={"cells": cells})


def _matrix(run: RunResult, cells: int, rps: list[float]) -> RunResult:
    found = [_cell(run, v, round(20_000 / v), name=f"s{c}", repeat=i)
             for c in range(cells) for i, v in enumerate(rps)]  # fmt: skip
    return run.model_copy(update={"cells": found})


def test_clear_slowdown_with_enough_repeats_fails(run: RunResult) -> None:
    base = _repeats(run, [400, 405, 398, 402, 401])
    new = _repeats(run, [300, 310, 305, 298, 303])
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed and not gate.power
    [regression] = gate.regressions
    assert regression.threshold.metric.name == "rps"
    assert regression.interval is not None
    assert regression.interval.low < 303 / 401 < regression.interval.high


def test_two_metrics_regressing_together_both_fail(run: RunResult) -> None:
    # The family is every check, fixed in advance: a second regression cannot rescue the
    # first by making the family larger, as a family of "checks past their threshold" did.
    base = _repeats(run, [400, 405, 398, 402, 401], p99=50)
    rps_only = compare(base, _repeats(run, [300, 310, 305, 298, 303], p99=50), THRESHOLDS)
    both = _repeats(run, [300, 310, 305, 298, 303], p99=50)
    for cell, p99 in zip(both.cells, [66, 67, 68, 69, 70], strict=True):
        assert cell.load is not None
        cell.load.p99_ms = p99
    gate = compare(base, both, THRESHOLDS)
    assert rps_only.failed and gate.failed
    assert {c.threshold.metric.name for c in gate.regressions} == {"rps", "p99"}


def test_small_significant_change_within_threshold_passes(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402, 403, 404])
    gate = compare(base, _repeats(run, [380, 381, 382, 383, 384]), THRESHOLDS)
    assert not gate.failed
    assert any(c.significant for c in gate.checks)


def test_large_change_that_is_not_significant_passes(run: RunResult) -> None:
    gate = compare(
        _repeats(run, [400, 250, 420, 260, 330]), _repeats(run, [330, 410, 240, 300, 250]),
        THRESHOLDS,
    )  # fmt: skip
    assert not gate.failed


def test_a_broad_regression_across_many_cells_cannot_hide(run: RunResult) -> None:
    # 13 cells x 5 repeats, all 25 % slower, no overlap: 54 checks, so no single cell
    # (p = 1/252 at best) survives Holm, but the matrix-wide check does.
    base = _matrix(run, 13, [400, 401, 402, 403, 404])
    new = _matrix(run, 13, [300, 301, 302, 303, 304])
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed
    assert {c.cell for c in gate.regressions} == {ALL_CELLS}
    assert {c.threshold.metric.name for c in gate.regressions} == {"rps", "p99"}
    assert gate.power  # and it says a single cell's change could not have been seen


def test_a_b_without_regression_across_many_cells_passes(run: RunResult) -> None:
    base = _matrix(run, 13, [400, 401, 402, 403, 404])
    gate = compare(base, _matrix(run, 13, [404, 402, 400, 403, 401]), THRESHOLDS)
    assert not gate.failed


@pytest.mark.parametrize("n", [3, 5, 10])
def test_power_warning_exactly_when_repeats_are_too_few(run: RunResult, n: int) -> None:
    base = _matrix(run, 1, [400.0 + i for i in range(n)])
    new = _matrix(run, 1, [300.0 + i for i in range(n)])
    # 4 checks, of which lag_max and errors tie everywhere and cannot reject: rps and
    # p99 share ALPHA, so one needs p <= 0.025; 3 a side reach 0.05 at best, 4 reach 1/70.
    gate = compare(base, new, DEFAULTS)
    if n == 3:
        assert not gate.failed
        assert any("no single cell's change can be significant" in w for w in gate.power)
        assert any("use 4 repeats a side" in w for w in gate.power)
    else:
        assert gate.failed and not any("no single cell" in w for w in gate.power)


def test_noisy_repeats_get_the_repeats_they_would_need(run: RunResult) -> None:
    base = _repeats(run, [400, 330, 470, 360, 440])
    new = _repeats(run, [300, 350, 280, 330, 310])
    gate = compare(base, new, THRESHOLDS)
    [warning] = [w for w in gate.power if w.startswith("rps:")]
    assert "this gate cannot detect a change below" in warning and "repeats a side" in warning


def test_every_repeat_errored_fails_against_one_errored_repeat(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    base.cells[0] = base.cells[0].model_copy(update={"status": "error", "error": "boom"})
    new = _repeats(run, [400, 401, 402])
    new.cells = [
        c.model_copy(update={"status": "error", "error": "target died"}) for c in new.cells
    ]
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed
    assert [q.what for q in gate.qualitative] == ["not measured"]


def test_a_cell_missing_from_the_candidate_fails(run: RunResult) -> None:
    base = _matrix(run, 2, [400, 401, 402])
    new = _matrix(run, 1, [400, 401, 402])
    gate = compare(base, new, THRESHOLDS)
    assert gate.failed and [q.what for q in gate.qualitative] == ["missing"]


def test_the_same_error_much_more_often_fails(run: RunResult) -> None:
    requests = 10_000
    base = _repeats(run, [400] * 5, failures=1)
    new = _repeats(run, [400] * 5, failures=4_000)
    for cell in [*base.cells, *new.cells]:
        assert cell.load is not None
        cell.load.requests = requests
    gate = compare(base, new, DEFAULTS)
    assert not gate.qualitative  # the same kind of error: only the rate tells
    [regression] = gate.regressions
    assert regression.threshold.metric.name == "errors"
    assert regression.change == pytest.approx(0.4 - 0.0001)


def test_errors_appearing_fail_even_with_three_repeats(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    new = _repeats(run, [400, 401, 402], failures=12)  # 2 % of 608 requests
    gate = compare(base, new, DEFAULTS)
    assert gate.failed and [q.what for q in gate.qualitative] == ["new error"]


def _finding(kind: str, severity: str, **evidence: float) -> Finding:
    return Finding(kind=kind, severity=severity, summary=f"{kind} seen", evidence=evidence,  # type: ignore[arg-type]
                   explanation="", hint="")  # fmt: skip


def test_a_finding_gates_only_when_most_new_repeats_show_it(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    new = _repeats(run, [400, 401, 402])
    new.cells[0].findings.append(_finding("event-loop-blocking", "error"))
    new.cells[1].findings.append(_finding("gc-pauses", "info"))
    new.cells[2].findings.append(_finding("gc-pauses", "info"))
    assert not compare(base, new, THRESHOLDS).failed
    new.cells[1].findings.append(_finding("event-loop-blocking", "error"))
    assert compare(base, new, THRESHOLDS).failed  # now in most repeats


def test_a_finding_that_got_worse_is_reported_not_gated(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    new = _repeats(run, [400, 401, 402])
    for cell in base.cells:
        cell.findings.append(_finding("connection-leak", "warning", checked_out_after_quiesce=3))
    for cell in new.cells:
        cell.findings.append(_finding("connection-leak", "error", checked_out_after_quiesce=15))
    gate = compare(base, new, THRESHOLDS)
    assert not gate.failed
    details = [q.detail for q in gate.worse_findings]
    assert details == ["connection-leak: now an error",
                       "connection-leak: checked_out_after_quiesce from 3 to 15"]  # fmt: skip


def test_configuration_and_environment_mismatches_are_named(run: RunResult) -> None:
    base = _repeats(run, [400, 401, 402])
    new = _repeats(run, [400, 401, 402])
    new.environment = new.environment.model_copy(update={"cpu_count": 64})
    for cell in new.cells:
        cell.config.users = 32
        cell.config.pool = cell.config.pool.model_copy(update={"pool_size": 20})
        assert cell.load is not None
        cell.load.generator_saturated = True
    mismatches = compare(base, new, THRESHOLDS).mismatches
    assert "environments differ, cpu_count: 2 in the base, 64 in the new run" in mismatches
    assert any("users differs: 4 in the base, 32 in the new run" in m for m in mismatches)
    assert any("pool differs" in m and "pool_size=20" in m for m in mismatches)
    assert any("generator was saturated in the new run" in m for m in mismatches)
    assert compare(base, base, THRESHOLDS).mismatches == []


def _golden_gate(run: RunResult) -> str:
    base = _matrix(run, 2, [400, 405, 398, 402, 399])
    new = _matrix(run, 2, [400, 404, 399, 401, 398])
    new.cells[5:] = [_cell(run, v, round(20_000 / v), name="s1", repeat=i)
                     for i, v in enumerate([300, 310, 305, 301, 309])]  # fmt: skip
    new.cells[0].findings.append(_finding("pool-exhaustion", "error", pool_timeouts=4))
    new.cells[1].findings.append(_finding("pool-exhaustion", "error", pool_timeouts=4))
    new.cells[2].findings.append(_finding("pool-exhaustion", "error", pool_timeouts=5))
    new.environment = new.environment.model_copy(update={"cpu_count": 4})
    gate = compare(base, new, DEFAULTS)
    return gate_report.markdown(gate) + "\n---\n" + gate_report.junit(gate)


def test_markdown_and_junit_match_the_golden_files(run: RunResult) -> None:
    markdown, junit = _golden_gate(run).split("\n---\n")
    assert markdown == (GOLDEN / "gate.md").read_text()
    assert junit == (GOLDEN / "gate.xml").read_text()
    failures = ET.fromstring(junit).findall(".//failure")
    assert {f.get("message", "").split(":")[0] for f in failures} == {
        "throughput", "p99 latency", "pool-exhaustion"
    }  # fmt: skip


def test_exports_for_github_action_benchmark_and_bencher(run: RunResult) -> None:
    new = _repeats(run, [300, 310, 305], failures=6)
    files = gate_export.github_action_benchmark(new, DEFAULTS)
    bigger = json.loads(files["customBiggerIsBetter.json"])
    smaller = json.loads(files["customSmallerIsBetter.json"])
    cell = new.cells[0].config.id
    assert bigger == [{"name": f"{cell} rps", "unit": "req/s", "value": 305, "range": "300..310",
                       "extra": "median of 3 repeats"}]  # fmt: skip
    assert {e["name"] for e in smaller} == {f"{cell} {m}" for m in ("p99", "lag_max", "errors")}
    bmf = json.loads(gate_export.bencher_metric_format(new, DEFAULTS))
    assert bmf[cell]["rps"] == {"value": 305, "lower_value": 300, "upper_value": 310}
    assert bmf[cell]["errors"]["value"] == pytest.approx(100 * 6 / 608)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rps:+10%", "rps gets worse when it goes -"),
        ("speed:-10%", "unknown metric 'speed'"),
        ("p99:20", "invalid --fail-on item"),
        ("p99:+150%", "must be in"),
        ("errors:-1%", "errors gets worse when it goes +"),
    ],
)
def test_bad_gate_strings_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_fail_on(text)


def test_error_thresholds_are_in_points() -> None:
    [errors] = parse_fail_on("errors:+1%")
    assert errors.exceeded(0.011) and not errors.exceeded(0.009)


def _sessionbench(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "sessionbench", "compare", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_compare_command_exit_codes_and_exports(run: RunResult, tmp_path: Path) -> None:
    paths = {}
    for name, rps in {
        "base": [400, 405, 398, 402, 399],
        "same": [401, 399, 404, 400, 403],
        "slow": [300, 310, 305, 301, 309],
    }.items():
        paths[name] = tmp_path / f"{name}.json"
        _repeats(run, rps).write(paths[name])
    assert _sessionbench(str(paths["base"]), str(paths["same"])).returncode == 0
    junit, gab, bmf = tmp_path / "gate.xml", tmp_path / "gab", tmp_path / "bmf.json"
    slow = _sessionbench(str(paths["base"]), str(paths["slow"]), "--junit", str(junit),
                         "--export-gab", str(gab), "--export-bmf", str(bmf))  # fmt: skip
    assert slow.returncode == 1, slow.stderr
    assert "regression" in slow.stdout and junit.exists()
    assert (gab / "customBiggerIsBetter.json").exists() and json.loads(bmf.read_text())
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"schema_version": 2, "ce')
    bad = _sessionbench(str(paths["base"]), str(corrupt))
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "not valid JSON" in bad.stderr


def test_strict_refuses_mismatched_runs(run: RunResult, tmp_path: Path) -> None:
    base, new = _repeats(run, [400, 401, 402]), _repeats(run, [400, 401, 402])
    for cell in new.cells:
        cell.config.duration_s = 30.0
    base.write(tmp_path / "base.json")
    new.write(tmp_path / "new.json")
    args = (str(tmp_path / "base.json"), str(tmp_path / "new.json"))
    loose = _sessionbench(*args)
    assert (
        loose.returncode == 0
        and "duration_s differs: 2.0 in the base, 30.0 in the new run" in loose.stdout
    )
    strict = _sessionbench(*args, "--strict")
    assert strict.returncode == 2
    assert strict.stderr.count("\n") == 1 and "refusing to compare (--strict)" in strict.stderr
