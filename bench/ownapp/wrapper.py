"""The uvicorn entry point for a user's app:
`uvicorn --factory sessionbench.bench.ownapp.wrapper:create_app`.

Runs in the child process.  Before the user's module is imported it registers
class-level SQLAlchemy listeners, so every engine the app builds, at import or later,
is seen without a line of the app changed: each new connection gets the run's
`application_name` (Postgres; the server's view counts the app's connections by it) and
the pools of the first engines that connect report their overflow and settings.  Then
it imports the app by its import string and installs the probes
(`Probes().install(app)`), and an `ErrorLog` outside the app counts the exceptions that
escape it.

A load error (module, attribute, not an ASGI app) is printed as one line starting with
`LOAD_ERROR` and the process exits with `LOAD_ERROR_EXIT`: the harness reports it as
bad input, not as a crash.
"""

import inspect
import sys
import weakref
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import Engine, event
from sqlalchemy.pool import NullPool, Pool, QueuePool
from starlette.types import ASGIApp
from uvicorn.importer import ImportFromStringError, import_from_string

from sessionbench.app_info import AppError, AppInfo, EngineInfo
from sessionbench.targets.probes import Probes
from sessionbench.targets.probes.app_errors import ErrorLog

from .spec import INFO_PATH, AppSpec

LOAD_ERROR = "sessionbench-load-error: "
LOAD_ERROR_EXIT = 3
# Engines whose checkouts are timed and whose pool settings are reported: the ones an app
# builds at start-up (a writer and a reader, say).  Engines built later are still counted
# by the class-level pool events; holding more here would keep them alive.
ENGINES_WATCHED = 2


class LoadError(Exception):
    pass


class EngineWatch:
    """Every engine the app builds, through class-level listeners: its connections named
    as they open (`do_connect`, a dialect event), its pool at its first checkout.  None
    sits on `Engine`'s own events: a listener there switches on SQLAlchemy's
    per-statement event dispatch for every engine, a cost the app would carry in every
    run, probes on or off."""

    def __init__(self, application_name: str) -> None:
        self.application_name = application_name
        self.probes: Probes | None = None
        self.watched: list[Pool] = []
        # id of each pool seen -> a weak reference that forgets it when it goes (a weak
        # set would allocate a reference on every checkout's lookup).
        self._seen: dict[int, weakref.ref[Pool]] = {}
        self.engines_seen = 0

    def install(self) -> None:
        event.listen(Engine, "do_connect", self._name_connection)
        event.listen(Pool, "checkout", self._on_checkout)

    def _name_connection(self, dialect: Any, _rec: Any, _cargs: Any, cparams: Any) -> None:
        # Only where the driver takes it as a connect argument; others are matched by nothing.
        if dialect.name != "postgresql":
            return
        if dialect.driver == "asyncpg":
            cparams.setdefault("server_settings", {})["application_name"] = self.application_name
        elif dialect.driver in ("psycopg", "psycopg2"):
            cparams["application_name"] = self.application_name

    def _on_checkout(self, _dbapi: Any, _record: Any, proxy: Any) -> None:
        pool: Pool = proxy._pool  # the checked-out connection's pool; no public name
        key = id(pool)
        if key in self._seen:
            return
        self._seen[key] = weakref.ref(pool, lambda _ref: self._seen.pop(key, None))
        self.engines_seen += 1
        if len(self.watched) < ENGINES_WATCHED:
            self.watched.append(pool)
            if self.probes is not None:
                self.probes.database.watch_pool(pool)

    def info(self) -> list[EngineInfo]:
        return [_engine_info(pool) for pool in self.watched]


def _engine_info(pool: Pool) -> EngineInfo:
    # The engine's dialect, given to its pool by create_engine (a pool made by hand has
    # a stand-in without names).
    dialect = pool._dialect
    base = EngineInfo(
        backend=getattr(dialect, "name", "unknown"), driver=getattr(dialect, "driver", "unknown")
    )
    if isinstance(pool, NullPool):
        return base.model_copy(update={"poolclass": "null"})
    if isinstance(pool, QueuePool):
        return base.model_copy(
            update={
                "poolclass": "queue",
                "pool_size": pool.size(),
                "max_overflow": getattr(pool, "_max_overflow", None),  # no public accessor
                "pool_timeout": pool.timeout(),
            }
        )
    return base.model_copy(update={"poolclass": type(pool).__name__})


def is_asgi(app: object) -> bool:
    """An ASGI 3 app: an async callable taking (scope, receive, send)."""
    if not callable(app):
        return False
    call = app if inspect.isroutine(app) else type(app).__call__
    if not inspect.iscoroutinefunction(call):
        return False
    try:
        params = inspect.signature(app).parameters
    except (TypeError, ValueError):
        return False
    return len(params) == 3


def load_app(spec: AppSpec) -> Any:
    if spec.app_dir:
        sys.path.insert(0, spec.app_dir)
    try:
        app = import_from_string(spec.import_string)
    except ImportFromStringError as exc:
        raise LoadError(str(exc)) from None
    except ImportError as exc:  # an import inside the user's module
        raise LoadError(f'could not import "{spec.import_string}": {exc}') from None
    if spec.factory:
        if not callable(app):
            raise LoadError(f"{spec.import_string} is not callable (--factory)")
        app = app()
    if not isinstance(app, FastAPI) and not is_asgi(app):
        raise LoadError(
            f"{spec.import_string} is not an ASGI app (got {type(app).__name__}); "
            "a FastAPI() instance or an async callable (scope, receive, send)"
            + ("" if spec.factory else "; for an app factory add --factory")
        )
    return app


def instrument(app: Any, engines: EngineWatch) -> ASGIApp:
    """The probes inside the app, its errors counted outside it."""
    probes = Probes()
    engines.probes = probes
    for pool in engines.watched:  # connected during import
        probes.database.watch_pool(pool)
    shell: FastAPI = app if isinstance(app, FastAPI) else _shell(app)
    probes.install(shell)
    errors = ErrorLog(shell)

    @shell.get(INFO_PATH, include_in_schema=False)
    async def info() -> Response:
        reading = AppInfo(
            engines=engines.info(),
            engines_seen=engines.engines_seen,
            errors=[
                AppError(error=error, app_line=line, count=count)
                for (error, line), count in errors.counts.most_common()
            ],
        )
        return Response(reading.model_dump_json(), media_type="application/json")

    if shell is not app:  # last: a mount at "/" takes every path not routed before it
        shell.mount("/", app)
    return errors


def _shell(inner: ASGIApp) -> FastAPI:
    """A FastAPI shell to carry the probes of a plain ASGI app (mounted in it once the
    probes' routes are in); the shell's lifespan runs the inner app's (Starlette does not
    pass lifespan events to mounts)."""
    from .lifespan import forward_lifespan

    return FastAPI(lifespan=forward_lifespan(inner), openapi_url=None)


def create_app() -> ASGIApp:
    spec = AppSpec.from_env()
    engines = EngineWatch(spec.application_name)
    engines.install()
    try:
        app = load_app(spec)
    except LoadError as exc:
        print(f"{LOAD_ERROR}{exc}", file=sys.stderr, flush=True)
        sys.exit(LOAD_ERROR_EXIT)
    return instrument(app, engines) if spec.probes else app
