"""Alembic's environment for the targets' schema.

The harness runs `alembic upgrade head` through Alembic's command API and hands over an
open connection in `config.attributes["connection"]` (Alembic's recipe for sharing a
connection with programmatic commands), so there is no URL or logging set-up here.
"""

from alembic import context

from sessionbench.targets.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
