"""Pool variants: small records selectable with `--pool NAME`, not copies of strategies."""

from sessionbench.registry import Registry

from .config import PoolSettings

POOLS: Registry[PoolSettings] = Registry("pool variant")


def custom_pool(
    base: PoolSettings, size: int | None, overflow: int | None, timeout: float | None
) -> PoolSettings:
    """A variant with some settings overridden, named after the changes (`--pool-size`)."""
    changes = {
        k: v
        for k, v in {"pool_size": size, "max_overflow": overflow, "pool_timeout": timeout}.items()
        if v is not None
    }
    if not changes:
        return base
    label = ",".join(f"{k}={v}" for k, v in changes.items())
    return base.model_copy(update={**changes, "name": f"{base.name}[{label}]"})


POOLS.add(
    PoolSettings(name="default", description="SQLAlchemy defaults: 5 + 10 overflow, 30 s timeout")
)
POOLS.add(
    PoolSettings(
        name="small",
        description="2 connections, no overflow, 2 s timeout: shows exhaustion quickly",
        pool_size=2,
        max_overflow=0,
        pool_timeout=2.0,
    )
)
POOLS.add(
    PoolSettings(
        name="large",
        description="32 connections, no overflow: one per user at the default load",
        pool_size=32,
        max_overflow=0,
    )
)
POOLS.add(
    PoolSettings(
        name="churn",
        description="2 + 30 overflow: overflow connections close on check-in and reopen",
        pool_size=2,
        max_overflow=30,
    )
)
POOLS.add(
    PoolSettings(
        name="null", description="NullPool: a new connection per checkout", poolclass="null"
    )
)
POOLS.add(
    PoolSettings(
        name="pooler",
        description="NullPool behind a pooler (--db pgbouncer): the pooler pools, not the app",
        poolclass="null",
    )
)
POOLS.add(
    PoolSettings(name="pre-ping", description="defaults + pool_pre_ping=True", pool_pre_ping=True)
)
POOLS.add(PoolSettings(name="recycle", description="defaults + pool_recycle=5 s", pool_recycle=5))
