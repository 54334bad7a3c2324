"""Unhealthy (fastapi #3205): sync `def` routes and a sync session dependency, a pool
far smaller than the threadpool.  Threads that hold a token wait for a connection;
the requests holding the connections wait for a thread to run their dependency's exit."""

import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String, create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

# Fail fast rather than queue for half a minute: a common setting, and what frees the
# threads a deadlock between threadpool and pool would otherwise hold.
engine = create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=0, pool_timeout=2)
SessionLocal = sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
app = FastAPI(title="inventory")


@app.get("/products")
def list_products(session: SessionDep) -> list[str]:
    session.execute(text("SELECT pg_sleep(0.02)"))  # a query that takes a while
    return [p.name for p in session.scalars(select(Product).limit(10))]
