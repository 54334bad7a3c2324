"""`Depends(dependency, scope=...)` on any FastAPI: where a `yield` dependency's exit runs.

FastAPI ran a `yield` dependency's exit code after the response before 0.106, before it in
0.106-0.117, after it again from 0.118, and lets the dependency choose since 0.121
(`scope="function"`: before the response; `"request"`, the default: after).  On a FastAPI
without `scope`, a plain `Depends()` keeps a target what it says only when that version's
own timing is the one asked for: `"request"` stands for FastAPI's default (a seed post's
plain `Depends(get_db)`), and `"function"` needs the exit to run before the response.
The timing is measured, not looked up: one request through a one-route app.
"""

import asyncio
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import metadata
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI
from starlette.types import Message

from .unsupported import UnsupportedVersion

DependencyScope = Literal["function", "request"]


def has_scope() -> bool:
    return "scope" in inspect.signature(Depends).parameters


async def _exit_order() -> list[str]:
    events: list[str] = []

    async def dependency() -> Any:
        yield
        events.append("exit")

    app = FastAPI()

    @app.get("/")
    async def route(_: Annotated[None, Depends(dependency)]) -> None:
        return None

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            events.append("response")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"",
        "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    return events


@cache
def exit_runs_before_response() -> bool:
    """Does a plain `Depends()` on a `yield` dependency finish before the response starts?"""
    # Its own thread and loop: the app factory is called while uvicorn's loop is running.
    with ThreadPoolExecutor(1) as thread:
        events = thread.submit(asyncio.run, _exit_order()).result()
    return events.index("exit") < events.index("response")


def scoped_depends(dependency: Callable[..., Any], scope: DependencyScope) -> Any:
    if has_scope():
        return Depends(dependency, scope=scope)
    if scope == "request" or exit_runs_before_response():
        return Depends(dependency)
    raise UnsupportedVersion(
        f"FastAPI {metadata.version('fastapi')} has no Depends(scope=...) and runs a yield "
        "dependency's exit code after the response, so a commit in the dependency cannot "
        "finish before the response"
    )
