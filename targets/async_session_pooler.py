"""`async-session-pooler`: `async-session` made safe behind a transaction-mode pooler.

The same app and session code as `async-session`; only the engine differs, as
SQLAlchemy's asyncpg dialect documents for PgBouncer: no statement cache, neither
SQLAlchemy's (`prepared_statement_cache_size=0`) nor asyncpg's own, used for its
introspection (`statement_cache_size=0`), and every prepared statement named uniquely, since
consecutive transactions of one client connection run on different server connections
that may already hold (or lack) asyncpg's `__asyncpg_stmt_N__`.  Run it with the pool
variant `pooler` (NullPool): the pooler pools.  On any other driver the engine is
`async-session`'s.
"""

from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from sqlalchemy import make_url

from .async_session import app_over
from .config import TargetConfig
from .engines import make_async_engine
from .registry import Strategy, register


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid4()}__"


def pooler_safe(config: TargetConfig) -> tuple[TargetConfig, dict[str, Any]]:
    """The config with SQLAlchemy's statement cache off, and the connect args turning
    asyncpg's off and naming statements uniquely."""
    url = make_url(config.database_url)
    if url.get_driver_name() != "asyncpg":
        return config, {}
    url = url.update_query_dict({"prepared_statement_cache_size": "0"})
    safe = config.model_copy(update={"database_url": url.render_as_string(hide_password=False)})
    return safe, {"statement_cache_size": 0, "prepared_statement_name_func": _unique_statement_name}


def build_app(config: TargetConfig) -> FastAPI:
    safe, connect_args = pooler_safe(config)
    return app_over(safe, make_async_engine(safe, connect_args))


STRATEGY = register(
    Strategy(
        name="async-session-pooler",
        summary="async-session behind a transaction pooler: no statement cache, unique "
        "prepared statement names (asyncpg); use with pool `pooler`",
        api="async",
        build_app=build_app,
        tags=("pooler",),
    )
)
