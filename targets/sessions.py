"""Session dependencies shared by strategies that manage sessions the same way.

Each dependency commits when the route returns and rolls back when it raises; the
`with` blocks close the session (returning its connection to the pool) either way.
"""

from collections.abc import AsyncIterator, Callable, Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker


def sync_session_dependency(factory: sessionmaker[Session]) -> Callable[[], Iterator[Session]]:
    def get_db() -> Iterator[Session]:
        with factory() as db:
            try:
                yield db
                db.commit()
            except Exception:
                db.rollback()
                raise

    return get_db


def async_session_dependency(
    factory: async_sessionmaker[AsyncSession],
) -> Callable[[], AsyncIterator[AsyncSession]]:
    async def get_session() -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    return get_session
