"""`sessionbench compare BASE.json NEW.json [--fail-on ...]`: the CI gate's exit code.

`--base-set` / `--new-set` compare one version set against another (an upgrade as the
candidate), within one results file or across two: each side keeps the cells of its set,
renamed so that the gate pairs them.
"""

from pathlib import Path

from rich.console import Console

from sessionbench.errors import ExitCode, UsageError
from sessionbench.reports import gate_export, gate_report
from sessionbench.reports.gate import GateResult, compare
from sessionbench.reports.thresholds import Threshold, parse_fail_on
from sessionbench.results import RunResult

from .resultfile import load_result
from .versions import label_of, package_changes, select


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def gate(
    base: RunResult, new: RunResult, thresholds: list[Threshold], *, strict: bool
) -> GateResult:
    result = compare(base, new, thresholds)
    if strict and result.mismatches:
        raise UsageError(
            f"refusing to compare (--strict): {result.mismatches[0]}"
            + (f" (and {len(result.mismatches) - 1} more)" if len(result.mismatches) > 1 else "")
        )
    return result


def run(
    *,
    base: Path,
    new: Path,
    fail_on: str,
    strict: bool = False,
    markdown: Path | None = None,
    junit: Path | None = None,
    export_gab: Path | None = None,
    export_bmf: Path | None = None,
    console: Console | None = None,
    base_set: str | None = None,
    new_set: str | None = None,
) -> ExitCode:
    """Print the verdict, write the requested reports; CHECK_FAILED on a regression."""
    console = console or Console()
    thresholds = parse_fail_on(fail_on)  # bad gate strings fail before any file is read
    baseline, candidate = load_result(base), load_result(new)
    if base_set is not None:
        baseline = select(baseline, label_of(base_set), "BASE")
    if new_set is not None:
        candidate = select(candidate, label_of(new_set), "NEW")
    changes = package_changes(baseline, candidate)
    if changes:
        console.print(f"packages: {', '.join(changes)}", markup=False, highlight=False)
    result = gate(baseline, candidate, thresholds, strict=strict)
    text = gate_report.markdown(result)
    console.print(text, markup=False, highlight=False, soft_wrap=True)
    if markdown is not None:
        _write(markdown, text)
    if junit is not None:
        _write(junit, gate_report.junit(result))
    if export_gab is not None:
        files = gate_export.github_action_benchmark(candidate, thresholds)
        try:
            gate_export.write_github_action_benchmark(export_gab, files)
        except OSError as exc:
            raise UsageError(f"cannot write {export_gab}: {exc.strerror or exc}") from None
    if export_bmf is not None:
        _write(export_bmf, gate_export.bencher_metric_format(candidate, thresholds))
    return ExitCode.CHECK_FAILED if result.failed else ExitCode.OK
