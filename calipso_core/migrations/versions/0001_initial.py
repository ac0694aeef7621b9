"""The initial schema: every table, its indexes, and the history triggers.

Revision ID: 0001
Revises:
"""

from alembic import op

from calipso_core.store.tables import HISTORY_SQL, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first revision creates the schema as declared; later changes are new revisions.
    bind = op.get_bind()
    metadata.create_all(bind)
    bind.exec_driver_sql(HISTORY_SQL)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
