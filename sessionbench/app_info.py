"""What the wrapper reports about the user's app at `GET /_sessionbench/app`: the pools of
the engines it built (the harness does not choose them) and the exceptions that escaped
it.  Pydantic only: both the wrapper and the harness import it."""

from pydantic import BaseModel, Field


class EngineInfo(BaseModel):
    backend: str
    driver: str
    poolclass: str = "unknown"  # "queue", "null", or another pool class's name
    pool_size: int | None = None
    max_overflow: int | None = None
    pool_timeout: float | None = None


class AppError(BaseModel):
    error: str  # "Type: first line of the message"
    app_line: str  # the innermost frame of the app's code that raised it
    count: int


class AppInfo(BaseModel):
    engines: list[EngineInfo] = Field(default_factory=list)  # the first ones that connected
    engines_seen: int = 0  # every engine that made a connection
    errors: list[AppError] = Field(default_factory=list)
