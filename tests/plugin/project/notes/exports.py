"""A second service: its engine is built in the lifespan and kept on app.state."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from .db import DATABASE_URL
from .models import Note


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_engine(DATABASE_URL)
    app.state.sessions = sessionmaker(engine)
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/exports/{note_id}")
def export_note(note_id: int, request: Request) -> dict[str, str]:
    with request.app.state.sessions() as db:
        note = db.scalar(select(Note).where(Note.id == note_id))
        if note is None:
            raise HTTPException(404)
        return {"text": note.text}


@app.get("/v1/exports/{note_id}")
def export_note_v1(note_id: int, request: Request) -> dict[str, str]:
    db = request.app.state.sessions()
    note = db.scalar(select(Note).where(Note.id == note_id))
    if note is None:
        raise HTTPException(404)  # the session is never closed on this path
    db.close()
    return {"text": note.text}
