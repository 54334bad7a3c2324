"""Creating a cell's schema (Alembic migrations) and seed data, and reading it after a run."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.orm import Session

from sessionbench.results import DatabaseChecks
from sessionbench.targets import migrations
from sessionbench.targets.models import seed_items
from sessionbench.targets.operations import count_failed_writes

from .urls import driver_for, with_driver


def _sync_url(url: URL) -> URL:
    return with_driver(url, driver_for(url.get_backend_name(), "sync"))


MIGRATIONS = Path(migrations.__file__).parent


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` with the migration scripts shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def create_schema(url: URL) -> None:
    engine = create_engine(_sync_url(url))
    try:
        migrate(engine)
        with Session(engine) as db:
            db.add_all(seed_items())
            db.commit()
    finally:
        engine.dispose()


def check_database(url: URL) -> DatabaseChecks:
    engine = create_engine(_sync_url(url))
    try:
        with Session(engine) as db:
            return DatabaseChecks(failed_writes_committed=count_failed_writes(db))
    finally:
        engine.dispose()
