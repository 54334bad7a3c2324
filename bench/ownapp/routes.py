"""Checking a requests file against the routes the running app declares."""

import re
from typing import Any

from sessionbench.errors import UsageError
from sessionbench.scenarios.mix import Mix

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _shape(path: str) -> str:
    """`/items/{id}` and `/items/{item_id}` are the same route."""
    return _PLACEHOLDER.sub("{}", path.rstrip("/") or "/")


def check_routes(mix: Mix, document: dict[str, Any]) -> None:
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return
    declared = {
        (method.upper(), _shape(path))
        for path, item in paths.items()
        if isinstance(item, dict)
        for method in item
    }
    for op in mix.operations:
        if (op.method, _shape(op.path)) not in declared:
            raise UsageError(
                f"{mix.source}: request {op.name!r}: the app has no route {op.method} {op.path}"
            )
