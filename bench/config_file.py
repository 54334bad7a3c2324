"""Settings from the user's `pyproject.toml`, table `[tool.sessionbench]`.

Precedence as Locust's: the command line, then (for database URLs) the environment,
then this table.  Keys are the long options' names (`url-env`, `alembic-ini`); a key
the table does not know, or a bad value, is one line naming it.  Parsed once at the
edge into `ProjectSettings`; paths are relative to the pyproject's folder.
"""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sessionbench.errors import UsageError

FILE_NAME = "pyproject.toml"


class ProjectSettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=lambda name: name.replace("_", "-")
    )

    app: str | None = None
    app_dir: Path | None = None
    factory: bool | None = None
    name: str | None = None
    url_env: str | None = None
    database_url: str | None = None
    driver: list[str] | None = None
    alembic_ini: Path | None = None
    metadata: str | None = None
    locustfile: Path | None = None
    requests: Path | None = None
    db: list[str] | None = Field(default=None, min_length=1)
    duration: str | None = None
    users: int | None = None
    repeat: int | None = None
    target_workers: int | None = Field(default=None, ge=1)  # the target's worker processes
    probes: bool | None = None
    output: Path | None = None
    target_url: str | None = None
    application_name: str | None = None
    fail_on: str | None = None  # for `sessionbench compare`

    def resolved(self, root: Path) -> "ProjectSettings":
        """Paths relative to the pyproject's folder, as its author meant them."""
        fields = ("app_dir", "alembic_ini", "locustfile", "requests", "output")
        return self.model_copy(
            update={
                f: root / getattr(self, f)
                for f in fields
                if getattr(self, f) is not None and not getattr(self, f).is_absolute()
            }
        )


def _message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r}"
    return f"{key!r}: {error['msg']}"


def load_project_settings(folder: Path | None = None) -> ProjectSettings:
    """The `[tool.sessionbench]` table of `pyproject.toml` in `folder` (default: the
    working directory); empty settings when there is none."""
    path = (folder or Path.cwd()) / FILE_NAME
    if not path.is_file():
        return ProjectSettings()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    table = data.get("tool", {}).get("sessionbench")
    if table is None:
        return ProjectSettings()
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.sessionbench] must be a table")
    try:
        return ProjectSettings.model_validate(table).resolved(path.parent)
    except ValidationError as exc:
        raise UsageError(f"{path}: [tool.sessionbench]: {_message(exc)}") from None


def prefer_command_line(
    values: dict[str, Any], from_command_line: set[str], project: ProjectSettings
) -> dict[str, Any]:
    """Each value as given on the command line, else from the project's table, else the
    command line's default."""
    merged = dict(values)
    for key in values:
        configured = getattr(project, key, None)
        if key not in from_command_line and configured is not None:
            merged[key] = configured
    return merged
