"""Bad input: the app's start-up fails."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    raise RuntimeError("cannot reach the cache at redis://cache:6379")
    yield


app = FastAPI(lifespan=lifespan)
