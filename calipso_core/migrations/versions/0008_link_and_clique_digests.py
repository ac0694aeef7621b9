"""Links and cliques keep the digest of their documents, so that a rescan rewrites only what changed.

Revision 0007 gave objects their digests; a rescan still wrote every link (15,000 at 200
hosts, each a new version for ``last_scanned`` alone, which the history trigger then
compared) and deleted and copied every clique again (3,900 rows, 7 MB of JSON and the
index of their nodes): 0.6 s of database work after each scan of an unchanged cloud.
``links`` and ``cliques`` now have ``doc_hash`` too, the digest the scan that stored the
row computed (``store.inventory.content_hash``), not part of the documents. A rescan
writes the rows whose digest differs and deletes those it no longer finds; the others
are left as they are, as the listener leaves the cliques an event did not change:
their ``last_scanned`` tells when their current version was found.

A writer that changes a row without giving a digest (the listener relinking a host or
recomputing a clique, monitoring setting a link's status) clears it, so that the next
scan writes that row whole: for links, the trigger that starts a new version (the
function revision 0007 made for objects); for cliques, a trigger of their own.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from calipso_core.migrations.triggers import CLEAR_OUTDATED_DIGEST, swap_trigger_function

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CLIQUE_CONTENT = ("focal_point_type", "clique_type", "nodes", "constraints", "doc")
OLD, NEW = (", ".join(f"{row}.{c}" for c in CLIQUE_CONTENT) for row in ("OLD", "NEW"))
CLIQUE_TRIGGER = f"""
CREATE FUNCTION calipso_digest_outdated() RETURNS trigger AS $$
BEGIN
{CLEAR_OUTDATED_DIGEST}    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER cliques_digest_outdated BEFORE UPDATE ON cliques FOR EACH ROW
    WHEN (({OLD}) IS DISTINCT FROM ({NEW}))
    EXECUTE FUNCTION calipso_digest_outdated();
"""


def upgrade() -> None:
    op.execute("ALTER TABLE links ADD COLUMN IF NOT EXISTS doc_hash text")
    swap_trigger_function("links", "links_version_started", "calipso_version_started",
                          "calipso_object_version_started")
    op.execute("ALTER TABLE cliques ADD COLUMN IF NOT EXISTS doc_hash text")
    op.execute(CLIQUE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER cliques_digest_outdated ON cliques")
    op.execute("DROP FUNCTION calipso_digest_outdated()")
    op.execute("ALTER TABLE cliques DROP COLUMN doc_hash")
    swap_trigger_function("links", "links_version_started", "calipso_object_version_started",
                          "calipso_version_started")
    op.execute("ALTER TABLE links DROP COLUMN doc_hash")
