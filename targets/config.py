"""What the harness tells a target process: strategy, database URL, pool settings.

The harness serialises a `TargetConfig` into the `SESSIONBENCH_TARGET` environment
variable; the target's app factory reads it back.  Both sides share this one model.
"""

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_VAR = "SESSIONBENCH_TARGET"


class PoolSettings(BaseModel):
    """A pool variant: the engine's pooling arguments, kept as data."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    poolclass: Literal["queue", "null"] = "queue"
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=-1)
    pool_timeout: float = Field(default=30.0, gt=0)
    pool_pre_ping: bool = False
    pool_recycle: int = -1

    @property
    def capacity(self) -> int | None:
        """Most connections the pool hands out at once (None: unbounded)."""
        if self.poolclass == "null" or self.max_overflow < 0:
            return None
        return self.pool_size + self.max_overflow

    def engine_kwargs(self) -> dict[str, object]:
        if self.poolclass == "null":
            from sqlalchemy.pool import NullPool

            return {"poolclass": NullPool, "pool_pre_ping": self.pool_pre_ping}
        return {
            "pool_size": self.pool_size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.pool_timeout,
            "pool_pre_ping": self.pool_pre_ping,
            "pool_recycle": self.pool_recycle,
        }


class TargetConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy: str
    database_url: str  # already carries the driver the strategy needs
    pool: PoolSettings
    application_name: str = "sessionbench"
    added_delay_ms: float = 0.0  # CPU per request (slowdown.py): gate calibration
    added_error_rate: float = Field(default=0.0, ge=0, lt=1)  # injected_errors.py: the same
    probes: bool = True  # off only to measure the probes' own overhead

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: self.model_dump_json()}

    @classmethod
    def from_env(cls) -> "TargetConfig":
        raw = os.environ.get(ENV_VAR)
        if not raw:
            raise RuntimeError(f"{ENV_VAR} is not set: targets are started by the harness")
        return cls.model_validate_json(raw)
