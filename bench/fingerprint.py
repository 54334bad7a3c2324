"""The environment a run measured, stored with every result."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import sessionbench
from sessionbench.results import Environment

PACKAGES = (
    "fastapi", "starlette", "pydantic", "sqlalchemy", "uvicorn", "uvloop", "anyio",
    "asyncpg", "psycopg", "aiosqlite", "greenlet", "locust",
)  # fmt: skip


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    source = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def environment() -> Environment:
    return Environment(
        python=platform.python_version(),
        platform=platform.platform(),
        cpu_count=os.cpu_count() or 1,
        sessionbench=sessionbench.__version__,
        git_commit=git_commit(),
        packages={name: v for name in PACKAGES if (v := _version(name)) is not None},
    )
