"""`calibration-stall`: stalls its event loop for exactly N ms on request.

Not a session strategy: the known quantity against which the loop-lag probe is
calibrated.  `GET /stall?ms=N` answers at once and schedules a callback that sleeps N ms
on the loop thread, so the stall is exactly N ms, without the request's own work.
"""

import asyncio
import time

from fastapi import FastAPI

from .config import TargetConfig
from .contract import create_app
from .registry import Strategy, register


def build_app(config: TargetConfig) -> FastAPI:
    app = create_app(config)

    @app.get("/stall")
    async def stall(ms: int) -> dict[str, int]:
        # Deliberately blocking: that is the point.
        asyncio.get_running_loop().call_soon(time.sleep, ms / 1000)
        return {"stalled_ms": ms}

    return app


STRATEGY = register(
    Strategy(
        name="calibration-stall",
        summary="stalls the event loop for exactly N ms on GET /stall?ms=N (probe calibration)",
        api="async",
        build_app=build_app,
        tags=("calibration",),
    )
)
