"""The targets' schema as Alembic migrations; `bench.schema` runs `upgrade head` per cell."""
