"""The strategy catalogue: one module per strategy, each registering a `Strategy`.

The CLI, the matrix and the tests all list strategies from here.  A strategy module
calls `register(...)` once at import; `STRATEGIES` imports the built-in modules on first
use so that importing one strategy does not import them all.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from fastapi import FastAPI

from sessionbench.registry import Registry

from .config import TargetConfig

BUILTIN_MODULES = ("sync_in_async", "sync_threadpool", "async_session", "async_scoped")


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str  # one line, shown by `sessionbench list`
    api: Literal["sync", "async"]  # which driver flavour its engine needs
    build_app: Callable[[TargetConfig], FastAPI]
    # Finding kinds a correct diagnosis reports for this strategy; empty = healthy.
    expected_findings: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=("core",))


_STRATEGIES: Registry[Strategy] = Registry("strategy")
_loaded = False


def register(strategy: Strategy) -> Strategy:
    return _STRATEGIES.add(strategy)


def strategies() -> Registry[Strategy]:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(f"{__package__}.{module}")
    return _STRATEGIES
