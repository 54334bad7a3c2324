"""Unhealthy: a server-sent-events route that keeps its request's session (and its
connection) for the whole stream, so a handful of slow clients exhaust the pool."""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(
    os.environ["DATABASE_URL"], pool_size=3, max_overflow=0, pool_timeout=1
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI(title="feed")


@app.get("/feed")
async def feed(session: SessionDep) -> StreamingResponse:
    events = (await session.scalars(select(Event).limit(10))).all()

    async def stream() -> AsyncIterator[str]:
        for tick in range(4):
            yield f"data: {len(events)} events, tick {tick}\n\n"
            await asyncio.sleep(0.5)  # the client reads slowly; the session stays checked out

    return StreamingResponse(stream(), media_type="text/event-stream")
