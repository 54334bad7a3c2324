"""The parts of every target app that do not depend on the session strategy."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from .config import TargetConfig
from .operations import DeliberateFailure


async def _deliberate_failure(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=500)


def create_app(
    config: TargetConfig,
    *routers: APIRouter,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            await on_shutdown()

    app = FastAPI(title=f"sessionbench target: {config.strategy}", lifespan=lifespan)
    app.add_exception_handler(DeliberateFailure, _deliberate_failure)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    for router in routers:
        app.include_router(router)
    return app
