"""Unhealthy: one AsyncSession created at import and shared by every request.  Two
requests at once use it concurrently, which an AsyncSession (and its one connection)
does not allow."""

import os

from fastapi import FastAPI
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"])
session = AsyncSession(engine, expire_on_commit=False)  # shared: the mistake


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(100))


app = FastAPI(title="counter")


@app.post("/visits/{page}")
async def visit(page: str) -> dict[str, int]:
    session.add(Visit(page=page))
    await session.commit()
    total = await session.scalar(select(func.count()).where(Visit.page == page))
    return {"visits": int(total or 0)}
