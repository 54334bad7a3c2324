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

BUILTIN_MODULES = (
    "sync_in_async",
    "sync_threadpool",
    "async_session",
    "async_session_pooler",
    "async_scoped",
    "engine_per_request",
    "manual_close",
    "background_commit",
    "stream_export",
    "calibration",
    "seeds.seed_000",
    "seeds.seed_001",
    "seeds.seed_002",
    "seeds.seed_003",
    "seeds.seed_004",
)


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str  # one line, shown by `sessionbench list`
    api: Literal["sync", "async"]  # which driver flavour its engine needs
    build_app: Callable[[TargetConfig], FastAPI]
    # Finding kinds a correct diagnosis reports for this strategy; empty = healthy.
    expected_findings: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=("core",))
    # The post whose code the target reproduces (a file in the seed posts), if any.
    source: str | None = None
    # Database kinds the pattern runs on (catalogue names); None: every kind.
    databases: tuple[str, ...] | None = None
    # A database the target opens itself instead of the cell's (seed 001's in-memory
    # SQLite); the harness then has nothing of its own to check afterwards.
    fixed_database: str | None = None

    def runs_on(self, database: str) -> bool:
        return self.databases is None or database in self.databases


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


# A plain `run` compares the core strategies and shows, beside them, the known-bad ones
# and the diagnoses they earn.
DEFAULT_TAGS = frozenset({"core", "broken"})


def default_strategies() -> list[Strategy]:
    return [s for s in strategies() if DEFAULT_TAGS & set(s.tags)]
