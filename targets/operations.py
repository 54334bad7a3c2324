"""The route contract's database work, written once as plain functions of a `Session`.

Sync strategies call them directly; async strategies call them through
`AsyncSession.run_sync`, which is how `AsyncSession` itself runs every statement (the
sync session inside a greenlet).  None of them commits: committing or rolling back is
the session strategy's job, and that is what the strategies differ in.
"""

from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from .models import FAIL_MARKER, Item


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    value: int = 0


class TransferIn(BaseModel):
    source: int
    target: int
    amount: int = Field(default=1, ge=1)


class DeliberateFailure(RuntimeError):
    """Raised by GET /fail after it has written a row, to exercise the error path."""


def read_item(db: Session, item_id: int) -> dict[str, object]:
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="item not found")
    return item.as_dict()


def list_items(db: Session, limit: int = 20) -> list[dict[str, object]]:
    rows = db.scalars(select(Item).order_by(Item.id).limit(min(limit, 100)))
    return [item.as_dict() for item in rows]


def create_item(db: Session, payload: ItemIn) -> dict[str, object]:
    item = Item(name=payload.name, value=payload.value)
    db.add(item)
    db.flush()  # assigns the id, inside the still-open transaction
    return item.as_dict()


def transfer(db: Session, payload: TransferIn) -> dict[str, object]:
    # Lock rows in id order so concurrent transfers cannot deadlock each other.
    for item_id, delta in sorted(
        [(payload.source, -payload.amount), (payload.target, payload.amount)]
    ):
        result = db.execute(update(Item).where(Item.id == item_id).values(value=Item.value + delta))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
    return {"source": payload.source, "target": payload.target, "amount": payload.amount}


def slow(db: Session, ms: int = 50) -> dict[str, object]:
    seconds = max(0, min(ms, 10_000)) / 1000
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
    elif dialect == "sqlite":
        db.execute(text("SELECT sb_sleep_ms(:ms)"), {"ms": seconds * 1000})
    else:
        db.execute(text("SELECT SLEEP(:s)"), {"s": seconds})
    return {"slept_ms": int(seconds * 1000)}


def fail(db: Session) -> dict[str, object]:
    db.add(Item(name=FAIL_MARKER, value=0))
    db.flush()
    raise DeliberateFailure("deliberate failure after a write")


def count_failed_writes(db: Session) -> int:
    return db.scalar(select(func.count()).where(Item.name == FAIL_MARKER)) or 0
