"""`sessionbench report RESULTS.json --format html|md|junit|terminal [--output PATH]`."""

import sys
from pathlib import Path

from sessionbench.errors import UsageError
from sessionbench.reports.charts import write_svgs
from sessionbench.reports.summary import summarise
from sessionbench.reports.sweep_analysis import analyse
from sessionbench.reports.sweep_chart import write_svg
from sessionbench.reports.writers import WRITERS
from sessionbench.results import RunResult

from .resultfile import load_result

# What `run` and `diagnose` write beside results.json.
DEFAULT_REPORTS = {"html": "report.html", "md": "summary.md"}


def write_report(result: RunResult, fmt: str, output: Path) -> Path:
    """Render `result` in `fmt` to the file `output` (a directory gets the default name)."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown report format {fmt!r}; valid: {', '.join(WRITERS)}")
    if output.is_dir():
        output = output / f"report{writer.suffix}"
    text = writer.render(result)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "md":
            svgs = write_svg(analyse(result), output.parent, output.stem)
            svgs += write_svgs(summarise(result), output.parent, output.stem)
            text += "\n### Charts\n\n" + "".join(f"![{p.stem}]({p.name})\n" for p in svgs)
        output.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return output


def write_default_reports(result: RunResult, directory: Path) -> list[Path]:
    return [write_report(result, fmt, directory / name) for fmt, name in DEFAULT_REPORTS.items()]


def run(*, results: Path, fmt: str, output: Path | None = None) -> Path | None:
    """Render `results` in `fmt`; to `output` if given (returned), else to stdout."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown report format {fmt!r}; valid: {', '.join(WRITERS)}")
    result = load_result(results)
    if output is None:
        sys.stdout.write(writer.render(result))
        return None
    return write_report(result, fmt, output)
