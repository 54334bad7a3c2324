"""Creating a cell's schema and seed data, and reading the database after a run."""

from sqlalchemy import URL, create_engine
from sqlalchemy.orm import Session

from sessionbench.targets.models import Base, seed_items
from sessionbench.targets.operations import count_failed_writes

from .results import DatabaseChecks
from .urls import driver_for, with_driver


def _sync_url(url: URL) -> URL:
    return with_driver(url, driver_for(url.get_backend_name(), "sync"))


def create_schema(url: URL) -> None:
    engine = create_engine(_sync_url(url))
    try:
        Base.metadata.create_all(engine)
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
