"""Every cell's schema comes from the Alembic migrations shipped in the package."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, create_engine, func, select, text

from sessionbench.bench.databases.base import DatabaseUnavailable
from sessionbench.bench.databases.mysql import open_mysql
from sessionbench.bench.schema import MIGRATIONS, create_schema
from sessionbench.bench.urls import driver_for, with_driver
from sessionbench.errors import UsageError
from sessionbench.targets.models import SEED_ROWS, Base, Item

pytestmark = pytest.mark.integration


def _assert_migrated(url: URL) -> None:
    create_schema(url)
    engine = create_engine(with_driver(url, driver_for(url.get_backend_name(), "sync")))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
            assert context.get_current_revision() == head is not None
            # The migrations build exactly what the ORM model describes.
            assert compare_metadata(context, Base.metadata) == []
            assert connection.scalar(select(func.count()).select_from(Item)) == SEED_ROWS
    finally:
        engine.dispose()


def test_sqlite_schema_is_built_by_the_migrations(tmp_path: Path) -> None:
    _assert_migrated(URL.create("sqlite", database=str(tmp_path / "cell.db")))


@pytest.mark.mysql
def test_mysql_cell_database_is_migrated_then_dropped(mysql_url: str) -> None:
    with open_mysql(mysql_url) as server, server.fresh_database("cell") as url:
        _assert_migrated(url)
        name = url.database
    admin = create_engine(with_driver(server.admin_url, "pymysql"))
    try:
        with admin.connect() as connection:
            left = connection.execute(text("SHOW DATABASES LIKE :name"), {"name": name})
            assert left.all() == []
    finally:
        admin.dispose()


def test_mysql_url_of_another_database_is_bad_usage() -> None:
    with (
        pytest.raises(UsageError, match="not a MySQL/MariaDB URL"),
        open_mysql("postgresql://postgres@127.0.0.1/postgres"),
    ):
        pass


def test_unreachable_mysql_is_skipped_with_one_line() -> None:
    with pytest.raises(DatabaseUnavailable) as raised, open_mysql("mysql://root@127.0.0.1:1/x"):
        pass
    message = str(raised.value)
    assert message.startswith("mysql skipped: cannot connect at mysql://root@127.0.0.1:1/x")
    assert "\n" not in message
