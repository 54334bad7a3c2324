"""Unhealthy: the route hands its request's session, its transaction still open, to a
BackgroundTasks job that adds an audit entry and commits both after the response was
sent: the client is told "created" before the user is committed."""

import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"])
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(200))


class SignupIn(BaseModel):
    email: str


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI(title="signup")


async def write_audit(session: AsyncSession, user_id: int) -> None:
    session.add(AuditEntry(message=f"user {user_id} signed up"))
    await session.commit()


@app.post("/signup", status_code=201)
async def signup(body: SignupIn, session: SessionDep, tasks: BackgroundTasks) -> dict[str, int]:
    user = User(email=body.email)
    session.add(user)
    await session.flush()
    tasks.add_task(write_audit, session, user.id)  # the request's session: the mistake
    return {"id": user.id}
