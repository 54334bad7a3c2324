"""`sessionbench report RESULTS.json --format html|md|junit|terminal [--output PATH]`."""

import sys
from pathlib import Path

from sessionbench.errors import UsageError
from sessionbench.reports.charts import write_svgs
from sessionbench.reports.summary import summarise
from sessionbench.reports.writers import WRITERS

from .resultfile import load_result


def run(*, results: Path, fmt: str, output: Path | None = None) -> Path | None:
    """Render `results` in `fmt`; to `output` if given (returned), else to stdout."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown report format {fmt!r}; valid: {', '.join(WRITERS)}")
    result = load_result(results)
    text = writer.render(result)
    if output is None:
        sys.stdout.write(text)
        return None
    if output.is_dir():
        output = output / f"report{writer.suffix}"
    try:
        if fmt == "md":
            svgs = write_svgs(summarise(result), output.parent, output.stem)
            text += "\n### Charts\n\n" + "".join(f"![{p.stem}]({p.name})\n" for p in svgs)
        output.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return output
