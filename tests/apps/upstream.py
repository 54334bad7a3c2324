"""A route that waits on an upstream service with no timeout; the upstream hangs.

Nothing is wrong with its session code: requests simply never finish, and a run must
count them as unfinished rather than leave them out of its figures."""

import asyncio
import os

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["DATABASE_URL"])
app = FastAPI(title="upstream")


async def fetch_rates() -> dict[str, float]:
    await asyncio.sleep(3600)  # the upstream never answers
    return {}


@app.get("/quote")
async def quote() -> dict[str, float]:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return await fetch_rates()
