"""A clique's document and nodes are stored out of line as they are, not compressed.

A network's clique holds every node on the network and the ids of its links: tens to
hundreds of kilobytes, which PostgreSQL compressed (pglz) at every write and expanded at
every read, and for the trigger that compares a rewritten clique with the old one. The
listener rewrites the cliques of the networks an event touches, so their cost grew with
the cloud: rewriting a network's clique of 600 to 6,000 nodes took 7-12 ms at 20,000
instances, 5.1-5.2 ms stored as it is. Small cliques (an instance's) stay in their row.
Rows written before keep their compressed values until they are written again.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE cliques ALTER COLUMN doc SET STORAGE EXTERNAL, ALTER COLUMN nodes SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE cliques ALTER COLUMN doc SET STORAGE EXTENDED, ALTER COLUMN nodes SET STORAGE EXTENDED")
