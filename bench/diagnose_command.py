"""`sessionbench diagnose RESULTS.json`: the rules run again on a saved run.

Diagnosing is a pure function of a saved cell, so new rules or thresholds apply to old
measurements: the findings are replaced in the file (upgraded to the current schema)
and the default reports beside it are written anew.
"""

from dataclasses import dataclass
from pathlib import Path

from sessionbench.results import Finding, RunResult

from .diagnosis import diagnose
from .report_command import write_default_reports
from .resultfile import load_result


@dataclass(frozen=True)
class Rediagnosis:
    result: RunResult
    changed: list[str]  # "cell id (repeat): before -> after" for each cell whose kinds changed
    reports: list[Path]


def _kinds(findings: list[Finding]) -> str:
    return ", ".join(sorted(f.kind for f in findings)) or "none"


def run(*, results: Path) -> Rediagnosis:
    result = load_result(results)
    changed = []
    for cell in result.cells:
        if cell.status != "ok" or cell.diagnostics is None or cell.diagnostics.final is None:
            continue  # nothing saved to diagnose from: its findings stay as they were
        before = _kinds(cell.findings)
        cell.findings = diagnose(cell)
        after = _kinds(cell.findings)
        if before != after:
            changed.append(f"{cell.config.id} (repeat {cell.repeat}): {before} -> {after}")
    result.write(results)
    return Rediagnosis(result, changed, write_default_reports(result, results.parent))
