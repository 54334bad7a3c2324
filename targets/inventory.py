"""The versions of the packages that decide how sessions behave, in this environment.

`python -m sessionbench.targets.inventory`, run with a version set's interpreter, imports
the app factory and every strategy module first, so a version set under which the target
code does not import fails here, with the error as its last line; then it prints the
versions as JSON.
"""

import json
from importlib import metadata

SESSION_PACKAGES = (
    "fastapi", "starlette", "pydantic", "sqlalchemy", "uvicorn", "uvloop", "anyio",
    "asyncpg", "psycopg", "aiosqlite", "greenlet", "pymysql", "aiomysql",
)  # fmt: skip


def installed_versions(names: tuple[str, ...] = SESSION_PACKAGES) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def main() -> None:
    from . import app  # noqa: F401  (the entry point uvicorn imports)
    from .registry import strategies

    strategies()
    print(json.dumps(installed_versions()))


if __name__ == "__main__":
    main()
