import os
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DATABASE_URL = os.environ["NOTES_DATABASE_URL"]
ASYNC_DATABASE_URL = os.environ["NOTES_ASYNC_DATABASE_URL"]

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(engine)
# No pool: the test clients run the app on more than one event loop, and an asyncpg
# connection belongs to the loop that opened it.
async_engine = create_async_engine(ASYNC_DATABASE_URL, poolclass=NullPool)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


async def get_async_db() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal() as db:
        yield db


Db = Annotated[Session, Depends(get_db)]
AsyncDb = Annotated[AsyncSession, Depends(get_async_db)]
