"""A virtual environment per version set, built once and cached by what it resolves to.

uv resolves the set's requirements for sessionbench's own Python; the exact list it
resolves to names the environment, so two sets resolving alike share one, and a set whose
resolution moves (a new release within `0.115.*`) gets a new one.  Environments are
built under a lock, completed by a marker file, and kept in `SESSIONBENCH_VENV_CACHE`
(default: the user's cache, e.g. `~/.cache/sessionbench/venvs`).

The environment holds third-party packages only: the target code is sessionbench's own,
reached through a tree of links in the run's temp dir (`PYTHONPATH`), so a cached
environment never runs stale target code.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import uv

import sessionbench
import sessionbench.targets
from sessionbench.errors import UsageError
from sessionbench.targets.inventory import installed_versions

from .leftovers import owned_temp_dir
from .server import TargetPython
from .versions import VersionSet, target_requirements

CACHE_ENV = "SESSIONBENCH_VENV_CACHE"
COMPLETE = "sessionbench-complete.txt"  # written last: its presence means a full build
RESOLVE_TIMEOUT_S = 180.0
INSTALL_TIMEOUT_S = 1800.0
IMPORT_TIMEOUT_S = 120.0

UV_MARKS = " \u00d7\u2570\u2500\u25b6\u2502"  # the cross and box-drawing marks uv's errors use
Progress = Callable[[str], None]


class SetUnavailable(Exception):
    """The set does not resolve, install, or run the target code: one line why."""


@dataclass(frozen=True)
class PreparedSet:
    label: str
    python: TargetPython
    packages: dict[str, str]  # the session packages' versions in that environment


def own_environment() -> PreparedSet:
    """sessionbench's own interpreter and packages (no `--with`)."""
    return PreparedSet("", TargetPython(), installed_versions())


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return (
        Path(configured) if configured else platformdirs.user_cache_path("sessionbench") / "venvs"
    )


def writable_cache_dir() -> Path:
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot keep environments in {cache} ({CACHE_ENV}): {exc.strerror or exc}"
        ) from None
    return cache


def _python_in(venv: Path) -> Path:
    return venv / "bin" / "python"


def _one_line(stderr: str) -> str:
    """uv's error (a header, then its causes, marked or prefixed) as one line."""
    parts = [line.strip(UV_MARKS).removeprefix("error: ") for line in stderr.splitlines()]
    parts = [part.removeprefix("cause: ").removeprefix("Caused by: ") for part in parts]
    text = " ".join(part for part in parts if part and not part.startswith("hint:"))
    return text[:400] or "no message"


def _uv(args: list[str], what: str, timeout: float, stdin: str | None = None) -> str:
    try:
        proc = subprocess.run(
            [uv.find_uv_bin(), *args], input=stdin, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise SetUnavailable("uv is not installed (pip install uv)") from None
    except subprocess.TimeoutExpired:
        raise SetUnavailable(f"{what}: uv took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise SetUnavailable(f"{what}: {_one_line(proc.stderr)}")
    return proc.stdout


def resolve(version_set: VersionSet) -> list[str]:
    """The exact `name==version` list the set's requirements resolve to here."""
    out = _uv(
        ["pip", "compile", "-", "--python", sys.executable, "--no-header", "--no-annotate",
         "--quiet"],
        "does not resolve", RESOLVE_TIMEOUT_S, stdin="\n".join(target_requirements(version_set)),
    )  # fmt: skip
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def environment_key(locked: list[str]) -> str:
    identity = [sys.version, sys.base_prefix, sys.platform, *locked]
    return hashlib.sha256("\n".join(identity).encode()).hexdigest()[:16]


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One build of an environment at a time, across concurrent runs."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def environment_for(locked: list[str], name: str, cache: Path, progress: Progress) -> Path:
    """The environment for `locked` in `cache`, built first if there is none."""
    venv = cache / environment_key(locked)
    with _build_lock(cache / f"{venv.name}.lock"):
        if (venv / COMPLETE).exists():
            progress(f"{name}: cached environment {venv}")
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # what an interrupted build left
        progress(f"{name}: building an environment of {len(locked)} packages in {venv} ...")
        started = time.monotonic()
        try:
            _uv(["venv", "--quiet", "--python", sys.executable, str(venv)], "no venv", 120)
            lock = venv / "requirements.lock"
            lock.write_text("\n".join(locked) + "\n")
            _uv(
                ["pip", "sync", str(lock), "--quiet", "--python", str(_python_in(venv))],
                "does not install", INSTALL_TIMEOUT_S,
            )  # fmt: skip
        except SetUnavailable:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / COMPLETE).write_text(
            f"built by sessionbench in {time.monotonic() - started:.1f} s\n"
        )
        progress(f"{name}: built in {time.monotonic() - started:.1f} s")
    return venv


def target_code(workdir: Path) -> str:
    """A directory from which another interpreter imports sessionbench's target code: a
    `sessionbench` package of links to this installation's files and `targets/`."""
    tree = workdir / "target-code"
    package = tree / "sessionbench"
    package.mkdir(parents=True)
    root = Path(sessionbench.__file__).parent
    for entry in root.iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    if not (package / "targets").exists():  # an editable install keeps it elsewhere
        (package / "targets").symlink_to(Path(sessionbench.targets.__file__).parent)
    return str(tree)


def inventory(python: TargetPython) -> dict[str, str]:
    """Import the target code under `python`; the session packages' versions there."""
    try:
        proc = subprocess.run(
            [python.executable, "-m", "sessionbench.targets.inventory"],
            env={**os.environ, **python.env}, capture_output=True, text=True,
            timeout=IMPORT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SetUnavailable("the target code took too long to import") from None
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no message"]
        raise SetUnavailable(f"the target code does not import: {lines[-1]}")
    packages: dict[str, str] = json.loads(proc.stdout)
    return packages


def prepare(version_set: VersionSet, code_dir: str, cache: Path, progress: Progress) -> PreparedSet:
    """Resolve, build or reuse, and check the environment of one set."""
    if not version_set.requirements:
        return own_environment()
    progress(f"{version_set.name}: resolving")
    venv = environment_for(resolve(version_set), version_set.name, cache, progress)
    python = TargetPython(str(_python_in(venv)), code_dir)
    return PreparedSet(version_set.label, python, inventory(python))


@contextmanager
def prepared(
    sets: list[VersionSet], progress: Progress
) -> Iterator[tuple[dict[str, PreparedSet], dict[str, str]]]:
    """Every set ready to run, by label, and the sets that are not, with their reasons;
    the links to the target code last as long as the block."""
    cache = writable_cache_dir() if any(s.requirements for s in sets) else cache_dir()
    workdir = owned_temp_dir()
    try:
        code_dir = target_code(workdir)
        ready, unavailable = {}, {}
        for version_set in sets:
            try:
                ready[version_set.label] = prepare(version_set, code_dir, cache, progress)
            except SetUnavailable as exc:
                unavailable[version_set.label] = str(exc)
                progress(f"{version_set.name}: its cells are skipped: {exc}")
        yield ready, unavailable
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
