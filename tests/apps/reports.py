"""Unhealthy: an async route does CPU-bound work (scoring a report) on the event loop
while its transaction is open; every other request on the worker waits, and their
transactions idle meanwhile."""

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=10)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI(title="reports")


def score_report(seed: int) -> str:
    digest = str(seed).encode()
    for _ in range(150_000):  # about a tenth of a second of pure CPU
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


@app.post("/reports/{seed}")
async def create_report(seed: int, session: SessionDep) -> dict[str, int | str]:
    report = Report(digest="")
    session.add(report)
    await session.flush()
    report.digest = score_report(seed)
    await session.commit()
    return {"id": report.id, "digest": report.digest}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
