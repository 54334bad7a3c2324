"""`sessionbench compare BASE.json NEW.json [--fail-on ...]`: the CI gate's exit code.

`--base-set` / `--new-set` compare one version set against another (an upgrade as the
candidate), within one results file or across two: each side keeps the cells of its set,
renamed so that the gate pairs them.
"""

from pathlib import Path

from rich.console import Console

from sessionbench.errors import ExitCode, UsageError
from sessionbench.reports import gate_report
from sessionbench.reports.gate import GateResult, compare
from sessionbench.reports.thresholds import parse_fail_on

from .resultfile import load_result
from .versions import label_of, package_changes, select


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def gate(
    base: Path,
    new: Path,
    fail_on: str,
    base_set: str | None = None,
    new_set: str | None = None,
    console: Console | None = None,
) -> GateResult:
    thresholds = parse_fail_on(fail_on)  # bad gate strings fail before any file is read
    base_result, new_result = load_result(base), load_result(new)
    if base_set is not None:
        base_result = select(base_result, label_of(base_set), "BASE")
    if new_set is not None:
        new_result = select(new_result, label_of(new_set), "NEW")
    changes = package_changes(base_result, new_result)
    if changes and console is not None:
        console.print(f"packages: {', '.join(changes)}", markup=False, highlight=False)
    return compare(base_result, new_result, thresholds)


def run(
    *,
    base: Path,
    new: Path,
    fail_on: str,
    markdown: Path | None = None,
    junit: Path | None = None,
    console: Console | None = None,
    base_set: str | None = None,
    new_set: str | None = None,
) -> ExitCode:
    """Print the verdict, write the requested reports; CHECK_FAILED on a regression."""
    console = console or Console()
    result = gate(base, new, fail_on, base_set, new_set, console)
    text = gate_report.markdown(result)
    console.print(text, markup=False, highlight=False, soft_wrap=True)
    if markdown is not None:
        _write(markdown, text)
    if junit is not None:
        _write(junit, gate_report.junit(result))
    return ExitCode.CHECK_FAILED if result.failed else ExitCode.OK
