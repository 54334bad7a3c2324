"""seed 001: `sqlite:///:memory:`, sessions opened and closed by hand, or through `get_db`.

The post's code, which both targets run as written (the model is the contract's `Item`
instead of the post's `User`):

    DATABASE_URL = "sqlite:///:memory:"
    engine = create_engine(DATABASE_URL, echo=True)
    SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
    Base.metadata.create_all(bind=engine)

    session = SessionLocal()
    session.add(new_user)
    session.commit()
    users = session.query(User).all()
    for user in users:
        print(user.name)

    # the "bad way"
    @app.get("/users")
    def get_users():
        db = SessionLocal()
        users = db.query(User).all()
        db.close()
        return users

    # the "good way"
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

What really happens under uvicorn: SQLAlchemy gives `:memory:` databases a
`SingletonThreadPool`, one connection per thread, and every new connection to
`:memory:` is a new, empty database.  `create_all` and the rows above went into the
start-up thread's database; the `def` routes run in FastAPI's threadpool, whose threads
each open their own empty one, so every database route fails with "no such table".
The target ignores the cell's database: the harness has nothing of its own to check.
"""

from collections.abc import Iterator

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from .. import operations as ops
from ..config import TargetConfig
from ..contract import create_app
from ..engines import serve_contract
from ..models import Base, Item, seed_items
from ..registry import Strategy, register
from ..routes import RouteStyle, build_router

DATABASE_URL = "sqlite:///:memory:"
SOURCE = "001_d96d5ea5002b3ce5"


def _post_setup() -> tuple[Engine, sessionmaker[Session]]:
    engine = create_engine(DATABASE_URL, echo=True)
    serve_contract(engine)
    SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
    Base.metadata.create_all(bind=engine)

    session = SessionLocal()  # never closed, as in the post
    session.add_all(seed_items())
    session.commit()
    items = session.scalars(select(Item)).all()
    for item in items:
        print(item.name)
    return engine, SessionLocal


def _by_hand_router(SessionLocal: sessionmaker[Session]) -> APIRouter:
    """The post's "bad way": open and close in each route, no try/finally."""
    router = APIRouter()

    @router.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, object]:
        db = SessionLocal()
        item = ops.read_item(db, item_id)
        db.close()
        return item

    @router.get("/items")
    def list_items(limit: int = 20) -> list[dict[str, object]]:
        db = SessionLocal()
        items = ops.list_items(db, limit)
        db.close()
        return items

    @router.post("/items")
    def create_item(payload: ops.ItemIn) -> dict[str, object]:
        db = SessionLocal()
        item = ops.create_item(db, payload)
        db.commit()
        db.close()
        return item

    @router.post("/transfer")
    def transfer(payload: ops.TransferIn) -> dict[str, object]:
        db = SessionLocal()
        result = ops.transfer(db, payload)
        db.commit()
        db.close()
        return result

    @router.get("/slow")
    def slow(ms: int = 50) -> dict[str, object]:
        db = SessionLocal()
        result = ops.slow(db, ms)
        db.close()
        return result

    @router.get("/fail")
    def fail() -> dict[str, object]:
        db = SessionLocal()
        result = ops.fail(db)
        db.close()
        return result

    return router


def build_by_hand(config: TargetConfig) -> FastAPI:
    engine, SessionLocal = _post_setup()
    return create_app(config, _by_hand_router(SessionLocal), engine=engine)


def build_get_db(config: TargetConfig) -> FastAPI:
    engine, SessionLocal = _post_setup()

    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    router = build_router(get_db, RouteStyle.THREADPOOL, commit_in_route=True, scope="request")
    return create_app(config, router, engine=engine)


register(
    Strategy(
        name="seed-001-by-hand",
        summary="post 001: sqlite :memory:, SessionLocal() ... close() by hand in def routes",
        api="sync",
        build_app=build_by_hand,
        # An exception between SessionLocal() and close() (every route raises "no such
        # table" here) leaves the session open; only the garbage collector returns its
        # connection.  Nothing holds the sessions afterwards, so no session-leak.
        expected_findings=("connection-leak",),
        tags=("seed",),
        source=SOURCE,
        databases=("sqlite",),
        fixed_database=DATABASE_URL,
    )
)
register(
    Strategy(
        name="seed-001-get-db",
        summary="post 001: sqlite :memory:, get_db dependency (yield/close) in def routes",
        api="sync",
        build_app=build_get_db,
        # The "good way" leaks here too: FastAPI runs get_db's `finally: db.close()` in
        # another threadpool thread than the route, and SQLite's connection refuses to be
        # used from a thread other than its own, so close() fails and the connection is
        # only reclaimed by the garbage collector.
        expected_findings=("connection-leak",),
        tags=("seed",),
        source=SOURCE,
        databases=("sqlite",),
        fixed_database=DATABASE_URL,
    )
)
