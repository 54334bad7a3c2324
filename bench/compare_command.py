"""`sessionbench compare BASE.json NEW.json [--fail-on ...]`: the CI gate's exit code."""

from pathlib import Path

from rich.console import Console

from sessionbench.errors import ExitCode, UsageError
from sessionbench.reports import gate_report
from sessionbench.reports.gate import GateResult, compare
from sessionbench.reports.thresholds import parse_fail_on

from .resultfile import load_result


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def gate(base: Path, new: Path, fail_on: str) -> GateResult:
    thresholds = parse_fail_on(fail_on)  # bad gate strings fail before any file is read
    return compare(load_result(base), load_result(new), thresholds)


def run(
    *,
    base: Path,
    new: Path,
    fail_on: str,
    markdown: Path | None = None,
    junit: Path | None = None,
    console: Console | None = None,
) -> ExitCode:
    """Print the verdict, write the requested reports; CHECK_FAILED on a regression."""
    result = gate(base, new, fail_on)
    text = gate_report.markdown(result)
    (console or Console()).print(text, markup=False, highlight=False, soft_wrap=True)
    if markdown is not None:
        _write(markdown, text)
    if junit is not None:
        _write(junit, gate_report.junit(result))
    return ExitCode.CHECK_FAILED if result.failed else ExitCode.OK
