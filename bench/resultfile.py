"""Reading `results.json`: old formats are upgraded step by step, newer ones refused.

Each `update_to_N` turns a version N-1 document into version N (asv's pattern), so a
file of any known version loads by chaining the steps from its own version up to
`SCHEMA_VERSION`.  A file from a newer sessionbench, or one that is not a result
file at all, fails with one line naming the file and what is wrong.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sessionbench.errors import UsageError
from sessionbench.results import SCHEMA_VERSION, RunResult

Document = dict[str, Any]


class ResultFileError(UsageError):
    """A results file that cannot be read: missing, corrupt, truncated or too new."""


def update_to_2(document: Document) -> Document:
    """Version 2 numbered repetitions and recorded the added delay; v1 runs had neither."""
    for cell in document.get("cells", []):
        cell.setdefault("repeat", 0)
        cell.get("config", {}).setdefault("added_delay_ms", 0.0)
    document.setdefault("micro", [])
    return document


# Fields of the probes' pool reading that v2 kept in `after_quiesce`.
_V2_POOL_KEYS = (
    "checked_out",
    "sessions_alive",
    "sessions_in_transaction",
    "gc_cleaned_connections",
    "connections_opened",
    "engines_connected",
)
_V2_LIBRARY_MARKERS = ("/site-packages/", "/lib/python3", "<", "targets/probes/")


def _v2_app_frame(stack: list[str]) -> int | None:
    """v2 kept absolute paths: the app's innermost frame is the last outside a library."""
    return next(
        (
            i
            for i in range(len(stack) - 1, -1, -1)
            if not any(m in stack[i] for m in _V2_LIBRARY_MARKERS)
        ),
        None,
    )


def _v2_diagnostics(old: Document) -> Document:
    stacks: list[list[str]] = []
    stalls = []
    for stall in old.get("stalls", []):
        stack = stall.get("stack") or []
        stalls.append(
            {
                "at_s": stall["at_s"],
                "duration_ms": stall["duration_ms"],
                "cause": stall["cause"],
                "stack": len(stacks) if stack else None,
                "app_frame": _v2_app_frame(stack) if stack else None,
            }
        )
        if stack:
            stacks.append(stack)
    after = old.get("after_quiesce", {})
    lag = {
        "max_ms": old.get("loop_lag_max_ms", 0.0),
        "p99_ms": old.get("loop_lag_p99_ms", 0.0),
        "total_ms": old.get("loop_lag_total_ms", 0.0),
        "histogram": old.get("loop_lag_histogram_ms", {}),
    }
    return {
        "samples": old.get("samples", []),
        "final": {
            "final": True,
            "loop": {"lag": lag},
            "pool": {key: after[key] for key in _V2_POOL_KEYS if key in after},
        },
        "stalls": stalls,
        "stacks": stacks,
    }


def update_to_3(document: Document) -> Document:
    """Version 3 kept the probes' final reading whole (typed), stalls with their stacks
    stored once, findings with the figure that decided them, and the load accounted over
    its configured window; v2's diagnostics carried a few figures of the final reading."""
    for cell in document.get("cells", []):
        if cell.get("diagnostics") is not None:
            cell["diagnostics"] = _v2_diagnostics(cell["diagnostics"])
    return document


MIGRATIONS: dict[int, Callable[[Document], Document]] = {2: update_to_2, 3: update_to_3}


def upgrade(document: Document) -> Document:
    version = document.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"no valid schema_version ({version!r})")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema version {version} is newer than this sessionbench reads "
            f"({SCHEMA_VERSION}); upgrade sessionbench"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        try:
            document = MIGRATIONS[target](document)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise ValueError(
                f"its content does not match schema version {target - 1} ({exc!r})"
            ) from None
        document["schema_version"] = target
    return document


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )


def load_result(path: Path) -> RunResult:
    """The run stored at `path`, upgraded to the current schema."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ResultFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultFileError(
            f"{path} is not valid JSON (corrupt or truncated?): {exc.msg} at line {exc.lineno}"
        ) from None
    if not isinstance(document, dict):
        raise ResultFileError(f"{path} is not a sessionbench results file")
    try:
        return RunResult.model_validate(upgrade(document))
    except ValueError as exc:  # ValidationError is a ValueError too
        detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise ResultFileError(f"{path} is not a usable results file: {detail}") from None
