"""The ORM model every target serves, and the seed data set."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SEED_ROWS = 200
# Rows written by GET /fail carry this name; finding one after a run means a
# failed transaction was committed instead of rolled back.
FAIL_MARKER = "sessionbench-fail"


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(Integer, default=0)

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "value": self.value}


def seed_items() -> list[Item]:
    """Ids are left to the database (1..SEED_ROWS on a fresh table), so that its
    sequence stays ahead of them and later inserts do not collide."""
    return [Item(name=f"item-{i}", value=1000) for i in range(1, SEED_ROWS + 1)]
