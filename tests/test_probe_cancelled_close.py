"""The probe tells a close cut short by a cancellation from a query cut short, on a real
engine: the driver's ROLLBACK (or statement) raises a cancellation, as asyncpg's await
does when AnyIO cancels it, and SQLAlchemy invalidates the connection."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from sessionbench.targets.probes.cancelled import close_cancelled


class Cancelled(BaseException):
    """Stands for asyncio.CancelledError: a BaseException, not a database error."""


@pytest.fixture
def verdicts(tmp_path: Any) -> Iterator[tuple[Any, list[bool]]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    seen: list[bool] = []
    event.listen(engine, "invalidate", lambda _c, _r, exc: seen.append(close_cancelled(exc)))
    yield engine, seen
    engine.dispose()


def test_a_rollback_cancelled_inside_close_is_a_cancelled_close(
    verdicts: tuple[Any, list[bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, seen = verdicts
    session = Session(engine)
    session.execute(text("SELECT 1"))

    def cancelled_rollback(_connection: Any) -> None:
        raise Cancelled

    monkeypatch.setattr(engine.dialect, "do_rollback", cancelled_rollback)
    with pytest.raises(Cancelled):
        session.close()
    assert seen == [True]


def test_a_statement_cancelled_mid_query_is_not(
    verdicts: tuple[Any, list[bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, seen = verdicts
    session = Session(engine)

    def cancelled_execute(*_args: Any) -> None:
        raise Cancelled

    monkeypatch.setattr(engine.dialect, "do_execute", cancelled_execute)
    with pytest.raises(Cancelled):
        session.execute(text("SELECT 1"))
    assert seen == [False]
    session.close()


def test_a_database_error_is_not_a_cancellation() -> None:
    assert close_cancelled(RuntimeError("server closed the connection")) is False
    assert close_cancelled(None) is False
