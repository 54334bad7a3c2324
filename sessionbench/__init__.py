"""sessionbench: benchmark and diagnose FastAPI + SQLAlchemy session strategies."""

__version__ = "0.1.0"
