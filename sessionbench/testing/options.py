"""The plugin's options: defaults, `[tool.sessionbench.pytest]` in pyproject.toml, then
the test's `@pytest.mark.sessionbench(...)` keywords, each overriding the one before.

Light on purpose (stdlib only): it is read while pytest configures, before any test
asks for the plugin.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Options:
    enabled: bool = True  # a test may opt out of `--sessionbench` with enabled=False
    # The event loop held by the app's code while serving a request.  A stall this long
    # is one: 50 ms is a latency every other request on the worker sees, well above the
    # 20-30 ms a busy CI machine's scheduler adds to a healthy loop and above the
    # watchdog's 15 ms stack capture, so every stall that fails a test names its line.
    # Waiting off the CPU in the app's code (a sync driver call, time.sleep) beyond a
    # tenth of the test, or any sync driver call on the loop, fails whatever its length.
    blocking: bool = True
    blocking_ms: float = 50.0
    # Connections still checked out after the test's teardown, sessions the garbage
    # collector had to close, sessions a request began that something still holds.
    leaks: bool = True
    leaked_sessions: int = 1  # kept sessions from which a test fails
    late_commits: bool = True  # a commit that completed after its response was sent
    idle_transactions: bool = True  # a transaction still open when its request ended
    engine_per_request: bool = True  # one route connecting a new engine on every call


class OptionError(ValueError):
    """Bad options: one line saying which and where."""


_NAMES = {f.name: f.type for f in fields(Options)}


def merged(base: Options, values: Mapping[str, Any], where: str) -> Options:
    changes: dict[str, Any] = {}
    for name, value in values.items():
        key = name.replace("-", "_")
        kind = _NAMES.get(key)
        if kind is None:
            valid = ", ".join(sorted(_NAMES))
            raise OptionError(f"sessionbench: unknown option {name!r} in {where} (valid: {valid})")
        if kind is bool and not isinstance(value, bool):
            raise OptionError(f"sessionbench: {name} in {where} must be true or false")
        number = int if kind is int else int | float
        if kind is not bool and (
            isinstance(value, bool) or not isinstance(value, number) or value <= 0
        ):
            raise OptionError(f"sessionbench: {name} in {where} must be a positive number")
        changes[key] = value
    return replace(base, **changes)


def from_pyproject(rootdir: Path) -> Options:
    """Defaults from `[tool.sessionbench.pytest]` in the project's pyproject.toml."""
    path = rootdir / "pyproject.toml"
    if not path.is_file():
        return Options()
    try:
        table = tomllib.loads(path.read_text()).get("tool", {}).get("sessionbench", {})
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"sessionbench: cannot read {path}: {exc}") from None
    section = table.get("pytest", {}) if isinstance(table, dict) else {}
    if not isinstance(section, dict):
        raise OptionError(f"sessionbench: [tool.sessionbench.pytest] in {path} must be a table")
    return merged(Options(), section, "[tool.sessionbench.pytest]")
