"""A file of the user's own requests (TOML), validated at the edge into a `Mix`.

    [[request]]
    name = "read an item"                  # optional; default "METHOD path"
    method = "GET"
    path = "/items/{id}"
    params = { id = { int = [1, 200] } }   # values for the path's {placeholders}
    query = { limit = 20 }
    json = { name = { text = 8 }, price = { int = [1, 99] } }
    weight = 3                             # default 1
    expect = [200]                         # statuses that succeed; default: below 400 (4xx apart)

An error names the entry (its `name`, else its number) and the field.
"""

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .mix import Mix, Operation, is_generator

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RequestsFileError(ValueError):
    pass


def _check_generators(value: Any) -> Any:
    if is_generator(value):
        ((kind, arg),) = value.items()
        ok = (
            (kind == "int" and isinstance(arg, list) and len(arg) == 2
             and all(isinstance(a, int) for a in arg) and arg[0] <= arg[1])
            or (kind == "choice" and isinstance(arg, list) and len(arg) > 0)
            or (kind == "text" and isinstance(arg, int) and arg > 0)
        )  # fmt: skip
        if not ok:
            raise ValueError(
                f"bad generator {value!r}: use {{ int = [lo, hi] }}, {{ choice = [...] }} "
                "or { text = N }"
            )
    elif isinstance(value, dict):
        for item in value.values():
            _check_generators(item)
    elif isinstance(value, list):
        for item in value:
            _check_generators(item)
    return value


class UserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    path: str = Field(pattern=r"^/")
    params: dict[str, Any] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    weight: int = Field(default=1, ge=1)
    expect: list[int] | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("params", "query", "json_body")
    @classmethod
    def _generators(cls, value: Any) -> Any:
        return _check_generators(value)

    @field_validator("expect")
    @classmethod
    def _statuses(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or not all(100 <= s <= 599 for s in value)):
            raise ValueError("expect must list HTTP statuses (100-599)")
        return value

    def operation(self) -> Operation:
        wanted = set(PLACEHOLDER.findall(self.path))
        if wanted != set(self.params):
            missing, extra = sorted(wanted - set(self.params)), sorted(set(self.params) - wanted)
            raise ValueError(
                "params must fill the path's placeholders exactly"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not in the path: {', '.join(extra)}" if extra else "")
            )
        return Operation(
            name=self.name or f"{self.method} {self.path}",
            method=self.method,
            path=self.path,
            path_params=self.params,
            query=self.query,
            bodies=[] if self.json_body is None else [self.json_body],
            weight=self.weight,
            expect=self.expect,
        )


def _label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"request {name!r}" if isinstance(name, str) else f"request #{index + 1}"


def load_requests(path: Path) -> Mix:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RequestsFileError(f"cannot read requests file {path}: {exc}") from None
    unknown = sorted(set(data) - {"request"})
    if unknown:
        raise RequestsFileError(f"{path}: unknown table(s) {', '.join(unknown)}; use [[request]]")
    entries = data.get("request")
    if not isinstance(entries, list) or not entries:
        raise RequestsFileError(f"{path}: no [[request]] entries")
    operations = []
    for index, raw in enumerate(entries):
        try:
            operations.append(UserRequest.model_validate(raw).operation())
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "entry"
            message = error["msg"].removeprefix("Value error, ")
            raise RequestsFileError(f"{path}: {_label(index, raw)}: {where}: {message}") from None
        except ValueError as exc:
            raise RequestsFileError(f"{path}: {_label(index, raw)}: {exc}") from None
    names = [op.name for op in operations]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise RequestsFileError(f"{path}: request name(s) used twice: {', '.join(twice)}")
    return Mix(source=f"requests file {path.name}", operations=operations)
