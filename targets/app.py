"""The uvicorn entry point: `uvicorn --factory sessionbench.targets.app:create_app`."""

from fastapi import FastAPI

from .config import TargetConfig
from .registry import strategies


def create_app() -> FastAPI:
    config = TargetConfig.from_env()
    return strategies().get(config.strategy).build_app(config)
