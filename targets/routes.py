"""The route contract, bound to one strategy's session dependency and route style.

Each operation in `operations.py` becomes an endpoint whose signature is the
operation's own parameters plus `db` from the strategy's dependency.  The style decides
what the endpoint is, which is exactly what the strategies differ in:

- `SYNC_IN_ASYNC`: `async def` calling the sync session on the event loop;
- `THREADPOOL`: plain `def`, so FastAPI runs it in its threadpool;
- `ASYNC`: `async def` awaiting an `AsyncSession`.

The dependency runs with `scope="function"`: its commit finishes before the response
is sent (with the default request scope, FastAPI answers first and commits after); on a
FastAPI without `scope`, `dependency_scope.py` says whether a plain `Depends()` does that.
With `commit_in_route`, the endpoint commits itself, as tutorials' `get_db` users do;
seed targets pass `scope="request"` where their post uses a plain `Depends(get_db)`.
"""

import enum
import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

from fastapi import APIRouter

from . import operations as ops
from .dependency_scope import DependencyScope, scoped_depends


class RouteStyle(enum.Enum):
    SYNC_IN_ASYNC = "async def + sync Session"
    THREADPOOL = "def + sync Session"
    ASYNC = "async def + AsyncSession"


def _endpoint(
    op: Callable[..., Any],
    style: RouteStyle,
    dependency: Callable[..., Any],
    commit_in_route: bool,
    scope: DependencyScope,
) -> Any:
    hints = get_type_hints(op, include_extras=True)
    op_params = list(inspect.signature(op).parameters.values())[1:]  # drop the session
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in op_params]
    db_param = inspect.Parameter(
        "db",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[Any, scoped_depends(dependency, scope)],
    )

    def threadpool_endpoint(db: Any, **kwargs: Any) -> Any:
        result = op(db, **kwargs)
        if commit_in_route:
            db.commit()
        return result

    async def sync_in_async_endpoint(db: Any, **kwargs: Any) -> Any:
        result = op(db, **kwargs)
        if commit_in_route:
            db.commit()
        return result

    async def async_endpoint(db: Any, **kwargs: Any) -> Any:
        result = await db.run_sync(op, **kwargs)
        if commit_in_route:
            await db.commit()
        return result

    endpoint: Callable[..., Any] = {
        RouteStyle.THREADPOOL: threadpool_endpoint,
        RouteStyle.SYNC_IN_ASYNC: sync_in_async_endpoint,
        RouteStyle.ASYNC: async_endpoint,
    }[style]
    endpoint.__name__ = op.__name__
    endpoint.__signature__ = inspect.Signature([*params, db_param])  # type: ignore[attr-defined]
    return endpoint


def build_router(
    dependency: Callable[..., Any],
    style: RouteStyle,
    *,
    commit_in_route: bool = False,
    scope: DependencyScope = "function",
) -> APIRouter:
    router = APIRouter()

    def add(method: str, path: str, op: Callable[..., Any]) -> None:
        router.add_api_route(
            path, _endpoint(op, style, dependency, commit_in_route, scope), methods=[method]
        )

    add("GET", "/items/{item_id}", ops.read_item)
    add("GET", "/items", ops.list_items)
    add("POST", "/items", ops.create_item)
    add("POST", "/transfer", ops.transfer)
    add("GET", "/slow", ops.slow)
    add("GET", "/fail", ops.fail)
    return router


__all__ = ["RouteStyle", "build_router"]
