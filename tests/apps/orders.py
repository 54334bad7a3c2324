"""Unhealthy: the session dependency commits after `yield`, with FastAPI's default
dependency scope, so the client is answered before the order is committed."""

import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"])
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]


class OrderIn(BaseModel):
    item: str
    quantity: int = 1


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
        await session.commit()  # runs after the response has been sent


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI(title="orders")


@app.post("/orders", status_code=201)
async def place_order(order: OrderIn, session: SessionDep) -> dict[str, int]:
    row = Order(item=order.item, quantity=order.quantity)
    session.add(row)
    await session.flush()
    return {"id": row.id}
