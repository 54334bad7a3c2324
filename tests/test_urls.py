import pytest

from sessionbench.bench.urls import (
    check_async_driver,
    driver_for,
    mask,
    parse_url,
    with_driver,
)
from sessionbench.errors import UsageError


def test_driver_is_swapped_and_password_kept_in_the_url_object() -> None:
    url = with_driver(parse_url("postgresql://bob:s3cret@db:5432/app"), "asyncpg")
    assert url.drivername == "postgresql+asyncpg"
    assert url.password == "s3cret"


def test_mask_never_shows_the_password() -> None:
    assert "s3cret" not in mask("postgresql+psycopg://bob:s3cret@db/app")
    assert mask("postgresql://bob:s3cret@db/app").startswith("postgresql://bob:***@db")
    assert mask("not a url") == "<unparseable URL>"


@pytest.mark.parametrize(
    ("raw", "message"),
    [("nonsense", "malformed database URL"), ("oracle://x@y/z", "unsupported database")],
)
def test_bad_urls_are_usage_errors(raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_url(raw)


def test_driver_choice() -> None:
    assert driver_for("postgresql", "async") == "asyncpg"
    assert driver_for("postgresql", "async", "psycopg") == "psycopg"
    assert driver_for("postgresql", "sync", "asyncpg") == "psycopg"
    assert driver_for("sqlite", "async", "asyncpg") == "aiosqlite"
    with pytest.raises(UsageError, match="valid: aiomysql, aiosqlite, asyncpg, psycopg"):
        check_async_driver("pg8000")
    with pytest.raises(UsageError, match="unknown driver"):
        with_driver(parse_url("sqlite:///x.db"), "asyncpg")
