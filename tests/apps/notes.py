"""Healthy: an AsyncSession per request from a dependency, committed in the route."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=5)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000), default="")


class NoteIn(BaseModel):
    title: str
    body: str = ""


class NoteOut(NoteIn):
    id: int


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(title="notes", lifespan=lifespan)


@app.post("/notes", status_code=201)
async def create_note(note: NoteIn, session: SessionDep) -> NoteOut:
    row = Note(title=note.title, body=note.body)
    session.add(row)
    await session.commit()
    return NoteOut(id=row.id, title=row.title, body=row.body)


@app.get("/notes/{note_id}")
async def read_note(note_id: int, session: SessionDep) -> NoteOut:
    row = await session.get(Note, note_id)
    if row is None:
        raise HTTPException(404, "no such note")
    return NoteOut(id=row.id, title=row.title, body=row.body)


@app.get("/notes")
async def list_notes(session: SessionDep, limit: int = 20) -> list[NoteOut]:
    rows = await session.scalars(select(Note).order_by(Note.id.desc()).limit(limit))
    return [NoteOut(id=r.id, title=r.title, body=r.body) for r in rows]
