"""seed 002: MySQL through pymysql; router -> service -> DAO wired with `Depends`.

The post's layers, which this target keeps (its `User` is the contract's `Item`):

    engine = create_engine("mysql+pymysql://username:password@localhost/database_name")
    Base.metadata.create_all(engine)

    @router.get("/", response_model=List[UserOut])
    async def get_users(service: UserService = Depends()):
        return await service.get_all_users()

    class UserService:
        def __init__(self, dao: UserDAO):
            self.dao = dao
        async def get_all_users(self):
            return await self.dao.get_all_users()

    class UserDAO:
        def __init__(self, session: Session):
            self.session = session
        async def ...

The post stops there: it shows neither where the DAO's session comes from nor the DAO's
method bodies, and FastAPI cannot build `UserService(dao: UserDAO)` without a `Depends`.
So the missing links are the ones its guidelines describe (a new session per request
from a `get_db` dependency, commit after a change) and `Depends()` on each layer.  The
`async def` methods run the sync session on the event loop: every query blocks it.
"""

# The post writes its dependencies as defaults (`= Depends()`); so does this target.
# ruff: noqa: B008

from collections.abc import Iterator

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from .. import operations as ops
from ..config import TargetConfig
from ..contract import create_app
from ..engines import connect_args
from ..models import Base
from ..registry import Strategy, register


def build_app(config: TargetConfig) -> FastAPI:
    engine = create_engine(config.database_url, connect_args=connect_args(config))
    Base.metadata.create_all(engine)
    SessionLocal = sessionmaker(bind=engine)

    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    class ItemDAO:
        def __init__(self, session: Session = Depends(get_db)) -> None:
            self.session = session

        async def get_item(self, item_id: int) -> dict[str, object]:
            return ops.read_item(self.session, item_id)

        async def get_items(self, limit: int) -> list[dict[str, object]]:
            return ops.list_items(self.session, limit)

        async def create_item(self, item_in: ops.ItemIn) -> dict[str, object]:
            item = ops.create_item(self.session, item_in)
            self.session.commit()
            return item

        async def transfer(self, transfer_in: ops.TransferIn) -> dict[str, object]:
            result = ops.transfer(self.session, transfer_in)
            self.session.commit()
            return result

        async def slow(self, ms: int) -> dict[str, object]:
            return ops.slow(self.session, ms)

        async def fail(self) -> dict[str, object]:
            return ops.fail(self.session)

    class ItemService:
        def __init__(self, dao: ItemDAO = Depends()) -> None:
            self.dao = dao

        async def get_item(self, item_id: int) -> dict[str, object]:
            return await self.dao.get_item(item_id)

        async def get_items(self, limit: int) -> list[dict[str, object]]:
            return await self.dao.get_items(limit)

        async def create_item(self, item_in: ops.ItemIn) -> dict[str, object]:
            return await self.dao.create_item(item_in)

        async def transfer(self, transfer_in: ops.TransferIn) -> dict[str, object]:
            return await self.dao.transfer(transfer_in)

        async def slow(self, ms: int) -> dict[str, object]:
            return await self.dao.slow(ms)

        async def fail(self) -> dict[str, object]:
            return await self.dao.fail()

    router = APIRouter()

    @router.get("/items/{item_id}")
    async def get_item(item_id: int, service: ItemService = Depends()) -> dict[str, object]:
        return await service.get_item(item_id)

    @router.get("/items")
    async def get_items(
        limit: int = 20, service: ItemService = Depends()
    ) -> list[dict[str, object]]:
        return await service.get_items(limit)

    @router.post("/items")
    async def create_item(
        item_in: ops.ItemIn, service: ItemService = Depends()
    ) -> dict[str, object]:
        return await service.create_item(item_in)

    @router.post("/transfer")
    async def transfer(
        transfer_in: ops.TransferIn, service: ItemService = Depends()
    ) -> dict[str, object]:
        return await service.transfer(transfer_in)

    @router.get("/slow")
    async def slow(ms: int = 50, service: ItemService = Depends()) -> dict[str, object]:
        return await service.slow(ms)

    @router.get("/fail")
    async def fail(service: ItemService = Depends()) -> dict[str, object]:
        return await service.fail()

    return create_app(config, router, engine=engine)


STRATEGY = register(
    Strategy(
        name="seed-002",
        summary="post 002: MySQL + pymysql, router/service/DAO via Depends, async methods "
        "over a sync Session",
        api="sync",
        build_app=build_app,
        expected_findings=("event-loop-blocking",),
        tags=("seed",),
        source="002_3b8890118afd29c5",
        databases=("mysql",),
    )
)
