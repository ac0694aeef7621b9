"""Alembic environment: migrations run on the engine Calipso passes in."""

from alembic import context

from calipso_core.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
