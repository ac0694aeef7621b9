"""The inventory's GIN index leaves out the maps of a switch's ports.

An Open vSwitch vEdge lists a tunnel port to every other host of the cloud, and its OTEP
the same ports again: with the whole document indexed, each took an index entry for every
value of every tunnel (name, bridge, type, each option), entries that grow with the square
of the hosts (3,600 per vEdge at 400 hosts; indexing them was 40% of the database's work
in a scan). Objects are found by their own fields, never by one port of these maps: the
index now holds the document without ``ports`` and ``tunnel_ports``.

The index keeps a short pending list (``SHORT_PENDING_LIST``): a scan adds megabytes of
entries that every lookup would otherwise read through until the list reaches 4 MB.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from calipso_core.store.tables import inventory

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_inventory_doc")
    # Created as the model declares it, so that its expression is the one queries use.
    next(ix for ix in inventory.indexes if ix.name == "ix_inventory_searched").create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_inventory_searched")
    op.execute("CREATE INDEX IF NOT EXISTS ix_inventory_doc ON inventory USING gin (doc jsonb_path_ops)")
