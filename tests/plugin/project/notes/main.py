import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from .db import DATABASE_URL, AsyncDb, Db, SessionLocal
from .models import Note, NoteIn, NoteOut

app = FastAPI()


# -- done right ------------------------------------------------------------------------
@app.post("/notes", status_code=201)
async def create_note(body: NoteIn, db: AsyncDb) -> NoteOut:
    note = Note(text=body.text)
    db.add(note)
    await db.commit()
    return NoteOut(id=note.id, text=note.text)


@app.get("/notes/{note_id}")
async def read_note(note_id: int, db: AsyncDb) -> NoteOut:
    note = await db.get(Note, note_id)
    if note is None:
        raise HTTPException(404)
    return NoteOut(id=note.id, text=note.text)


@app.get("/notes")
def list_notes(db: Db) -> list[NoteOut]:
    notes = db.scalars(select(Note).order_by(Note.id.desc()).limit(10))
    return [NoteOut(id=n.id, text=n.text) for n in notes]


# -- mistakes ----------------------------------------------------------------------------
@app.get("/v1/notes/{note_id}")
async def read_note_v1(note_id: int, db: Db) -> NoteOut:
    note = db.get(Note, note_id)  # a sync session in an async route
    if note is None:
        raise HTTPException(404)
    return NoteOut(id=note.id, text=note.text)


@app.get("/fingerprint")
async def fingerprint() -> dict[str, str]:
    digest = b"notes"
    for _ in range(1_000_000):  # CPU work on the event loop
        digest = hashlib.sha256(digest).digest()
    return {"fingerprint": digest.hex()}


@app.post("/notes/{note_id}/archive")
def archive_note(note_id: int) -> dict[str, bool]:
    db = SessionLocal()
    note = db.get(Note, note_id)
    if note is None:
        raise HTTPException(404)  # returns without closing the session
    note.archived = True
    db.commit()
    db.close()
    return {"archived": True}


_recent: list[Session] = []


@app.get("/recent")
def recent_notes() -> list[NoteOut]:
    db = SessionLocal()
    _recent.append(db)  # "reuse" for later: nothing ever closes it
    notes = db.scalars(select(Note).order_by(Note.id.desc()).limit(3))
    return [NoteOut(id=n.id, text=n.text) for n in notes]


def get_committing_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
        db.commit()  # default scope: runs after the response is sent
    finally:
        db.close()


@app.post("/v2/notes", status_code=201)
def create_note_v2(body: NoteIn, db: Annotated[Session, Depends(get_committing_db)]) -> dict:
    db.add(Note(text=body.text))
    db.flush()
    return {"ok": True}


@app.get("/count")
def count_notes() -> dict[str, int]:
    engine = create_engine(DATABASE_URL)  # a new engine (and pool) per request
    with Session(engine) as db:
        return {"count": db.scalar(select(func.count(Note.id))) or 0}
