"""Running a plain ASGI app's lifespan from the FastAPI shell it is mounted in."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message


def forward_lifespan(inner: ASGIApp) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_shell: Any) -> AsyncIterator[None]:
        to_app: asyncio.Queue[Message] = asyncio.Queue()
        from_app: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

        async def run() -> None:
            try:
                await inner(scope, to_app.get, from_app.put)
            except Exception:  # an app without lifespan support: nothing to run
                await from_app.put({"type": "lifespan.unsupported"})

        task = asyncio.create_task(run())
        await to_app.put({"type": "lifespan.startup"})
        answer = await from_app.get()
        if answer["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the app's start-up failed: {answer.get('message', '')}")
        try:
            yield
        finally:
            if answer["type"] == "lifespan.startup.complete":
                await to_app.put({"type": "lifespan.shutdown"})
                await from_app.get()
            task.cancel()

    return lifespan
