"""Building a user app's schema, in a child process (the app's code never runs in the
harness): `python -m sessionbench.bench.ownapp.schema_child alembic INI` runs the app's
own migrations to head, `... metadata MODULE:ATTR` runs `create_all` on a MetaData (or on
an object carrying one, such as a declarative Base).

The database URL arrives in `SESSIONBENCH_SCHEMA_URL` (the driver the app uses; for
`create_all`, the backend's sync driver); the app's own URL variable is set as well, so
an `env.py` that reads it finds the same database.  A bad MODULE:ATTR is one line
starting with LOAD_ERROR and exit LOAD_ERROR_EXIT, as the wrapper does.
"""

import os
import sys

URL_ENV = "SESSIONBENCH_SCHEMA_URL"


def _alembic(ini: str, url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(ini)
    # An env.py that reads sqlalchemy.url from the ini file gets the cell's database too.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def _metadata(import_string: str, url: str) -> None:
    from sqlalchemy import MetaData, create_engine
    from uvicorn.importer import ImportFromStringError, import_from_string

    from .wrapper import LOAD_ERROR, LOAD_ERROR_EXIT

    try:
        found = import_from_string(import_string)
    except (ImportFromStringError, ImportError) as exc:
        print(f"{LOAD_ERROR}--metadata: {exc}", file=sys.stderr, flush=True)
        sys.exit(LOAD_ERROR_EXIT)
    metadata = found if isinstance(found, MetaData) else getattr(found, "metadata", None)
    if not isinstance(metadata, MetaData):
        print(
            f"{LOAD_ERROR}--metadata {import_string} is not a MetaData "
            f"(got {type(found).__name__})",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(LOAD_ERROR_EXIT)
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


def main() -> None:
    kind, where, app_dir = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    if app_dir:
        sys.path.insert(0, app_dir)
    url = os.environ[URL_ENV]
    if kind == "alembic":
        _alembic(where, url)
    else:
        _metadata(where, url)


if __name__ == "__main__":
    main()
