"""The environment a run measured, stored with every result."""

import os
import platform
import subprocess
from pathlib import Path

import sessionbench
from sessionbench.results import Environment
from sessionbench.targets.inventory import SESSION_PACKAGES, installed_versions

PACKAGES = (*SESSION_PACKAGES, "locust")


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
        packages=installed_versions(PACKAGES),
    )
