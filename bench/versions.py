"""Version sets: the same target under other FastAPI, SQLAlchemy or driver versions.

A version set is a few pip requirements (`fastapi==0.115.*`, `sqlalchemy<2.1`); the word
`installed` names sessionbench's own environment.  A set is applied to the target's own
runtime requirements, each pinned to the version sessionbench runs with, so a set changes
what it names and what that drags along (Starlette follows FastAPI), nothing else.

Cells under a set carry its label (the requirements as written, canonicalised) in
`version_set` and at the end of their id; cells in sessionbench's own environment carry
"" and keep their plain id, so older results read as before.
"""

from dataclasses import dataclass, replace
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sessionbench.errors import UsageError
from sessionbench.results import RunResult

from .matrix import Cell

INSTALLED = "installed"
# What the target process imports (targets/ and its drivers and server); the harness's
# own tools (Locust, Alembic, reports) stay in sessionbench's environment.
TARGET_DISTRIBUTIONS = frozenset(
    {
        "fastapi", "sqlalchemy", "asyncpg", "psycopg", "aiosqlite", "pymysql", "aiomysql",
        "uvicorn", "uvloop", "httptools",
    }
)  # fmt: skip


@dataclass(frozen=True)
class VersionSet:
    requirements: tuple[Requirement, ...] = ()  # empty: sessionbench's own environment

    @property
    def label(self) -> str:
        return " ".join(str(r) for r in self.requirements)

    @property
    def name(self) -> str:
        """The label as shown to people."""
        return self.label or INSTALLED


def _parse_requirement(text: str) -> Requirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(f"requirement {text!r} does not parse: {exc}") from None
    if requirement.marker is not None:
        raise UsageError(f"requirement {text!r}: a version set takes no environment markers")
    return requirement


def parse_set(requirements: list[str]) -> VersionSet:
    """One set from requirements; `installed` alone is sessionbench's own environment."""
    if requirements == [INSTALLED]:
        return VersionSet()
    parsed = tuple(_parse_requirement(text) for text in requirements)
    names = [canonicalize_name(r.name) for r in parsed]
    if not parsed or len(set(names)) != len(names):
        raise UsageError(f"version set {' '.join(requirements)!r} names a package twice")
    return VersionSet(parsed)


def parse_sets(with_requirements: list[str], with_sets: list[str]) -> list[VersionSet]:
    """`--with` (together one set) and `--with-set` (one set each, requirements separated
    by spaces); none at all: sessionbench's own environment only."""
    sets = [parse_set(text.split()) for text in with_sets]
    if with_requirements:
        sets.append(parse_set(with_requirements))
    labels = [s.label for s in sets]
    if len(set(labels)) != len(labels):
        raise UsageError("the same version set is given twice")
    return sets or [VersionSet()]


def label_of(text: str) -> str:
    """The label of a set as a user names it on the command line (`compare --base-set`)."""
    return parse_set(text.split()).label


def target_requirements(version_set: VersionSet) -> list[str]:
    """The target's runtime requirements pinned to sessionbench's versions; a set's
    requirement replaces the version of its package (keeping the extras the target needs,
    e.g. `psycopg[binary]`) and adds the packages the target does not require itself."""
    overrides = {canonicalize_name(r.name): r for r in version_set.requirements}
    requirements = []
    for text in metadata.requires("sessionbench") or []:
        base = Requirement(text)
        name = canonicalize_name(base.name)
        if name not in TARGET_DISTRIBUTIONS:
            continue
        if base.marker is not None and not base.marker.evaluate({"extra": ""}):
            continue
        override = overrides.pop(name, None)
        # A fresh object: the set's own requirements (and so its label) stay as given.
        requirement = Requirement(
            str(override) if override else f"{base.name}=={metadata.version(base.name)}"
        )
        requirement.extras |= base.extras
        requirements.append(str(requirement))
    return requirements + [str(r) for r in overrides.values()]


def across(cells: list[Cell], sets: list[VersionSet]) -> list[Cell]:
    """Every cell under every set, the sets of one cell next to each other: the cells stay
    grouped by database, and drift during the run hits every set alike."""
    return [replace(cell, version_set=s.label) for cell in cells for s in sets]


def select(result: RunResult, label: str, side: str) -> RunResult:
    """The cells of one version set, their ids without the set, so that the gate pairs
    them with the other side's cells."""
    cells = [c for c in result.cells if c.config.version_set == label]
    if not cells:
        present = sorted({c.config.version_set or INSTALLED for c in result.cells})
        raise UsageError(
            f"{side} has no cells under version set {label or INSTALLED!r}; "
            f"it has: {', '.join(present) or 'no cells'}"
        )
    renamed = [
        c.model_copy(
            update={
                "config": c.config.model_copy(
                    update={"id": c.config.id.removesuffix(f"/{label}"), "version_set": ""}
                )
            }
        )
        for c in cells
    ]
    return result.model_copy(update={"cells": renamed})


def package_changes(base: RunResult, new: RunResult) -> list[str]:
    """`name old -> new` for each session package whose version differs between the two
    sides' cells (each side's first cell)."""
    if not base.cells or not new.cells:
        return []
    old, now = base.cells[0].config.packages, new.cells[0].config.packages
    return [
        f"{name} {old.get(name, '-')} -> {now.get(name, '-')}"
        for name in sorted(old.keys() | now.keys())
        if old.get(name) != now.get(name)
    ]
