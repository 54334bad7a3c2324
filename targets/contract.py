"""The parts of every target app that do not depend on the session strategy."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from .config import TargetConfig
from .injected_errors import add_errors
from .operations import DeliberateFailure
from .probes import Probes
from .slowdown import add_delay


async def _deliberate_failure(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=500)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # Still a 500 (and still logged with its traceback), but the body says what went
    # wrong, so the load generator counts failures by their cause.
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return JSONResponse({"detail": detail}, status_code=500)


def create_app(
    config: TargetConfig,
    *routers: APIRouter,
    engine: Engine | AsyncEngine | None = None,
    scoped: Any = None,
) -> FastAPI:
    """The app with /health, the error handler and, unless switched off, the probes
    watching `engine` and the `scoped` session registry; `engine` is disposed at
    shutdown."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
        elif engine is not None:
            engine.dispose()

    app = FastAPI(title=f"sessionbench target: {config.strategy}", lifespan=lifespan)
    app.add_exception_handler(DeliberateFailure, _deliberate_failure)
    add_delay(app, config.added_delay_ms)
    add_errors(app, config.added_error_rate)
    app.add_exception_handler(Exception, _unexpected_error)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    for router in routers:
        app.include_router(router)
    if config.probes:
        probes = Probes()
        if engine is not None:
            probes.watch_engine(engine)
        if scoped is not None:
            probes.watch_registry(scoped)
        probes.install(app)
    return app
