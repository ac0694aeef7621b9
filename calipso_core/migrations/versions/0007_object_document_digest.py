"""Each object keeps the digest of its document, so that a rescan rewrites only what changed.

A rescan finds nearly every object as it was, yet wrote each one whole again: at 200
hosts, 43 MB of JSON for the database to parse, compare and store (1.9 s), only for
``last_scanned`` to change. Each ``inventory`` row now has ``doc_hash``, the digest that
the scan which stored its document computed of it (``store.inventory.content_hash``); a
later scan that computes the same digest only sets the row's ``last_scanned`` (0.3 s for
all of them). Like ``valid_from``, the column is not part of the documents.

A writer that changes an object without giving a digest (a monitoring status, a handler
stamping a revision) leaves a digest that no longer tells the content: the trigger that
starts a new version clears it then, and the next scan writes that object whole.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from calipso_core.migrations.triggers import CLEAR_OUTDATED_DIGEST, swap_trigger_function

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION = f"""
CREATE FUNCTION calipso_object_version_started() RETURNS trigger AS $$
BEGIN
    NEW.valid_from := now();
{CLEAR_OUTDATED_DIGEST}    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE inventory ADD COLUMN IF NOT EXISTS doc_hash text")
    op.execute(FUNCTION)
    swap_trigger_function("inventory", "inventory_version_started", "calipso_version_started",
                          "calipso_object_version_started")


def downgrade() -> None:
    swap_trigger_function("inventory", "inventory_version_started", "calipso_object_version_started",
                          "calipso_version_started")
    op.execute("DROP FUNCTION calipso_object_version_started()")
    op.execute("ALTER TABLE inventory DROP COLUMN doc_hash")
