"""Bad input: the app never finishes starting, so it never answers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    await asyncio.sleep(3600)  # waiting for a service that never comes
    yield


app = FastAPI(lifespan=lifespan)
