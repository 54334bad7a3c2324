"""Scenario definitions loaded from `scenarios.toml` (data, not code)."""

import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from sessionbench.registry import Registry

from .abort import Abort, AbortFieldError, parse_abort
from .faults import Fault, FaultError, parse_fault

CATALOGUE_FILE = Path(__file__).with_name("scenarios.toml")
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ENV_VAR = "SESSIONBENCH_SCENARIO"
# `stall` is GET /stall?ms=N, served only by the `calibration-stall` target; `export` is
# GET /export?ms=N, served only by the `export-*` targets (the `abort` fault's).
ROUTES = ("read", "list", "write", "transfer", "slow", "stall", "fail", "health", "export")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    users: int
    tasks: dict[str, int]
    slow_ms: int = 0
    stall_ms: int = 0  # how long GET /stall blocks the target's event loop
    # A burst: `burst_users` users from `burst_start` for `burst_length` (fractions of
    # the run), then back to `users` so recovery is measured too.  0 means no burst.
    burst_users: int = 0
    burst_start: float = 0.5
    burst_length: float = 0.25
    abort: Abort | None = None  # clients that abandon a share of their requests
    fault: Fault | None = None  # see faults.py

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: json.dumps(asdict(self))}


class ScenarioFileError(ValueError):
    pass


def _milliseconds(name: str, table: dict[str, object], key: str) -> int:
    value = table.get(key, 0)
    if not isinstance(value, int) or value < 0:
        raise ScenarioFileError(f"scenario {name!r}: '{key}' must be a non-negative integer")
    return value


def parse_scenario(name: str, table: dict[str, object]) -> Scenario:
    tasks = table.get("tasks")
    if not isinstance(tasks, dict) or not tasks:
        raise ScenarioFileError(f"scenario {name!r}: 'tasks' must be a non-empty table")
    unknown = sorted(set(tasks) - set(ROUTES))
    if unknown:
        raise ScenarioFileError(
            f"scenario {name!r}: unknown route(s) {', '.join(unknown)}; valid: {', '.join(ROUTES)}"
        )
    if not all(isinstance(w, int) and w > 0 for w in tasks.values()):
        raise ScenarioFileError(f"scenario {name!r}: task weights must be positive integers")
    users = table.get("users", 16)
    if not isinstance(users, int) or users < 1:
        raise ScenarioFileError(f"scenario {name!r}: 'users' must be a positive integer")
    slow_ms = _milliseconds(name, table, "slow_ms")
    stall_ms = _milliseconds(name, table, "stall_ms")
    burst_users = table.get("burst_users", 0)
    if not isinstance(burst_users, int) or burst_users < 0:
        raise ScenarioFileError(f"scenario {name!r}: 'burst_users' must be a non-negative integer")
    start, length = table.get("burst_start", 0.5), table.get("burst_length", 0.25)
    if not (
        isinstance(start, int | float)
        and isinstance(length, int | float)
        and 0 <= start < 1
        and 0 < length <= 1 - start
    ):
        raise ScenarioFileError(
            f"scenario {name!r}: 'burst_start' and 'burst_length' must be fractions of the run "
            "with burst_start + burst_length <= 1"
        )
    try:
        abort = parse_abort(table["abort"]) if "abort" in table else None
    except AbortFieldError as exc:
        raise ScenarioFileError(f"scenario {name!r}: {exc}") from None
    try:
        fault = parse_fault(name, table["fault"]) if "fault" in table else None
    except FaultError as exc:
        raise ScenarioFileError(str(exc)) from None
    return Scenario(
        name=name,
        description=str(table.get("description", "")),
        users=users,
        tasks=dict(tasks),
        slow_ms=slow_ms,
        stall_ms=stall_ms,
        burst_users=burst_users,
        burst_start=float(start),
        burst_length=float(length),
        abort=abort,
        fault=fault,
    )


def _read(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioFileError(f"cannot read scenario file {path}: {exc}") from None


def load_scenarios(*extra_files: Path) -> Registry[Scenario]:
    """The built-in scenarios, then those of the user's files (same format, new names)."""
    registry: Registry[Scenario] = Registry("scenario")
    for path in (CATALOGUE_FILE, *extra_files):
        where = "" if path == CATALOGUE_FILE else f"{path}: "
        for name, table in _read(path).items():
            if not isinstance(table, dict):
                raise ScenarioFileError(f"{where}scenario {name!r}: expected a table")
            if name in registry.names():
                raise ScenarioFileError(f"{where}scenario {name!r} is already defined")
            try:
                registry.add(parse_scenario(name, table))
            except ScenarioFileError as exc:
                raise ScenarioFileError(f"{where}{exc}") from None
    return registry
