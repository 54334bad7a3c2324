from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    archived: Mapped[bool] = mapped_column(default=False)


class NoteIn(BaseModel):
    text: str


class NoteOut(BaseModel):
    id: int
    text: str
