"""Unhealthy: the route opens a transaction, then awaits a slow call to another service
(a payment provider, here a sleep) before it commits: the transaction sits idle, holding
its row lock and its connection, for the whole call."""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=10)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI(title="payments")


async def charge_card(amount: int) -> str:
    await asyncio.sleep(1.0)  # the provider's answer takes a second
    return "paid"


@app.post("/payments")
async def pay(amount: int, session: SessionDep) -> dict[str, int | str]:
    if amount <= 0:
        raise HTTPException(422, "amount must be positive")
    payment = Payment(status="pending")
    session.add(payment)
    await session.flush()  # the transaction begins here ...
    payment.status = await charge_card(amount)  # ... and idles through the call
    await session.commit()
    return {"id": payment.id, "status": payment.status}
