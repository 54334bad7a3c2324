"""`background-commit`: `async-session`, plus an audit row written after every response
by a BackgroundTasks job with its own session.

The known-good twin of commit-after-response: committing after the response is
deliberate here, the response promised nothing about the audit row, and the job opens
its own session once the response has gone.  lost-write must not fire on it.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .config import TargetConfig
from .contract import create_app
from .engines import make_async_engine
from .models import Item
from .registry import Strategy, register
from .routes import RouteStyle, build_router
from .sessions import async_session_dependency

AUDIT_NAME = "audit"


def _with_audit(
    factory: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[AsyncSession]]:
    get_session = async_session_dependency(factory)

    async def write_audit() -> None:
        async with factory() as session:
            session.add(Item(name=AUDIT_NAME, value=0))
            await session.commit()

    async def get_session_with_audit(
        background: BackgroundTasks,
        session: Annotated[AsyncSession, Depends(get_session, scope="function")],
    ) -> AsyncSession:
        background.add_task(write_audit)
        return session

    return get_session_with_audit


def build_app(config: TargetConfig) -> FastAPI:
    engine = make_async_engine(config)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    return create_app(config, build_router(_with_audit(factory), RouteStyle.ASYNC), engine=engine)


STRATEGY = register(
    Strategy(
        name="background-commit",
        summary="async-session plus an audit row committed by a BackgroundTasks job after "
        "each response (healthy: deliberate background work)",
        api="async",
        build_app=build_app,
        tags=("twin",),
    )
)
