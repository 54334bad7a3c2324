"""The user's app builds its own pool: its settings, as read from the app's first engine,
stand in for the pool variant a built-in target gets, so the rules know its capacity."""

from sessionbench.app_info import AppInfo
from sessionbench.targets.config import PoolSettings


def pool_settings(info: AppInfo | None) -> PoolSettings:
    engine = info.engines[0] if info and info.engines else None
    if engine is None:
        # Capacity unknown: the rules that need it (threadpool starvation) stay silent.
        return PoolSettings(name="app", poolclass="null")
    if engine.poolclass == "queue" and engine.pool_size is not None:
        return PoolSettings(
            name=f"app[pool_size={engine.pool_size},max_overflow={engine.max_overflow}]",
            pool_size=max(engine.pool_size, 1),
            max_overflow=engine.max_overflow if engine.max_overflow is not None else -1,
            pool_timeout=engine.pool_timeout or 30.0,
        )
    return PoolSettings(name=f"app[{engine.poolclass}]", poolclass="null")
