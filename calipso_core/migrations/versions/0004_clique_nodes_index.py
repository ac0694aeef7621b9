"""Cliques are found by their nodes through an index of their nodes only.

A network's clique holds every host, vNIC and instance on the network: thousands of nodes
and links, a document of megabytes. The GIN index of whole documents took an entry for
every value in it (each link's id, type, ends and name), and writing one such clique
again cost twice what writing the document did. Cliques are looked up by the nodes they
hold (the listener, ``/graph``, ``/impact``): the index now holds those only, and also
serves ``?|`` (any of these nodes), which the whole-document index could not. Filtering
cliques by a link's type or id reads them one by one.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_cliques_doc")
    op.execute("CREATE INDEX IF NOT EXISTS ix_cliques_nodes ON cliques USING gin ((doc -> 'nodes'))")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_cliques_nodes")
    op.execute("CREATE INDEX IF NOT EXISTS ix_cliques_doc ON cliques USING gin (doc jsonb_path_ops)")
