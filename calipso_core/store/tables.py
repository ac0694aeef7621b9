"""The database schema: identity fields as indexed columns, the rest as JSONB.

Every table has a ``doc`` JSONB column, with a GIN index (``jsonb_path_ops``) for
containment queries (``doc @> '{...}'``) on all but ``history`` and ``cliques``, whose
nodes are a column of their own, indexed for ``@>`` and ``&&`` (revision 0006). The
inventory's index leaves out the maps of a switch's ports (``searched_doc``).

History (migration 0002): each ``inventory`` and ``links`` row also has ``valid_from``, the
start of its current version, kept by the database and not part of the documents (so not
declared here). When a row changes or is deleted, triggers write the version that ended
to ``history`` with its span ``[valid_from, valid_to)``. The SQL functions
``calipso_version_key(row)`` and ``calipso_version_doc(row)`` give a row's current version
as history keeps it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()


def _table(name: str, *columns, indexes: tuple[tuple[str, ...], ...] = (), gin: bool = True,
           **options) -> Table:
    """A table with a JSONB ``doc`` column, its GIN index (unless ``gin`` is false) and
    plain column indexes; ``options`` go to ``Table``."""
    table = Table(
        name,
        metadata,
        *columns,
        Column("doc", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        **options,
    )
    if gin:
        Index(f"ix_{name}_doc", table.c.doc, postgresql_using="gin", postgresql_ops={"doc": "jsonb_path_ops"})
    for cols in indexes:
        Index(f"ix_{name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


# Every scan rewrites every row it sees (``last_scanned``). Pages half empty let the new
# row version stay on its page (a HOT update) so that no index is written: the table
# takes twice the space a packed one would, the space repeated rescans take anyway.
RESCANNED = {"postgresql_with": {"fillfactor": 50}}


# Identity and lookup columns compare byte by byte (revision 0003 says why).
KEY = String(collation="C")


def _now() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


environments = _table(
    "environments",
    Column("name", String, primary_key=True),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

inventory = _table(
    "inventory",
    Column("environment", KEY, primary_key=True),
    Column("id", KEY, primary_key=True),
    Column("type", KEY, nullable=False),
    Column("name", String, nullable=False),
    Column("parent_id", KEY),
    Column("parent_type", String),
    Column("id_path", Text, nullable=False),
    Column("name_path", Text, nullable=False),
    Column("host", KEY),
    Column("status", String),
    Column("last_scanned", DateTime(timezone=True)),
    indexes=(("environment", "type"), ("environment", "parent_id"), ("environment", "host")),
    gin=False,  # its own, below
    **RESCANNED,
)
#: A GIN index takes new entries into a pending list that every search reads through, and
#: merges it into the index when it reaches this size (kB; the server's default is 4,096).
#: A scan writes megabytes of entries at once: with the default, the listener's lookups of
#: the ports of a few hosts read through them (45 ms a lookup instead of 5, on 25,000 ports).
SHORT_PENDING_LIST = {"gin_pending_list_limit": 256}
#: The maps of a switch's ports by name: an Open vSwitch vEdge's tunnel ports (and its
#: OTEP's) name every other host of the cloud, so that their index entries would grow with
#: the square of the hosts. Objects are found by their own fields, not by one of these.
UNSEARCHED = ("ports", "tunnel_ports")
#: The inventory document as its GIN index holds it (revision 0005); ``doc @> ...`` on it
#: is what ``match_conditions`` asks when the match names none of ``UNSEARCHED``.
searched_doc = inventory.c.doc.op("-", return_type=JSONB)(literal_column(f"'{{{','.join(UNSEARCHED)}}}'::text[]"))
Index("ix_inventory_searched", searched_doc.label("searched"), postgresql_using="gin",
      postgresql_ops={"searched": "jsonb_path_ops"}, postgresql_with=SHORT_PENDING_LIST)
# Prefix searches on id_path (children, subtrees) need the pattern operator class.
Index("ix_inventory_id_path", inventory.c.environment, inventory.c.id_path,
      postgresql_ops={"id_path": "text_pattern_ops"})

links = _table(
    "links",
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("environment", KEY, nullable=False),
    Column("link_type", KEY, nullable=False),
    Column("source_id", KEY, nullable=False),
    Column("target_id", KEY, nullable=False),
    Column("link_name", String),
    Column("host", KEY),
    Column("state", String),
    Column("status", String),
    Column("implicit", Boolean, nullable=False, server_default=text("false")),
    Column("last_scanned", DateTime(timezone=True)),
    UniqueConstraint("environment", "link_type", "source_id", "target_id", name="uq_links_identity"),
    indexes=(("environment", "source_id"), ("environment", "target_id"), ("environment", "host")),
    **RESCANNED,
)

cliques = _table(
    "cliques",
    Column("environment", String, primary_key=True),
    Column("focal_point", String, primary_key=True),
    Column("focal_point_type", String, nullable=False),
    Column("clique_type", String, nullable=False),
    Column("last_scanned", DateTime(timezone=True)),
    # Out of the document (revision 0006): a network's clique is megabytes, and the cliques
    # a change touches are found by their nodes and checked against their constraints.
    Column("nodes", ARRAY(String), nullable=False, server_default=text("'{}'")),
    Column("constraints", JSONB),
    indexes=(("environment", "focal_point_type"),),
    gin=False,
)
Index("ix_cliques_node_ids", cliques.c.nodes, postgresql_using="gin")

clique_types = _table(
    "clique_types",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False),
    Column("focal_point_type", String, nullable=False),
    Column("environment", String, nullable=False, server_default=""),
    Column("origin", String, nullable=False, server_default="user"),
    UniqueConstraint("name", "environment", name="uq_clique_types_name"),
)

clique_constraints = _table(
    "clique_constraints",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("focal_point_type", String, nullable=False),
    Column("environment", String, nullable=False, server_default=""),
    UniqueConstraint("focal_point_type", "environment", name="uq_clique_constraints"),
)

scans = _table(
    "scans",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("environment", String, nullable=False),
    Column("status", String, nullable=False),
    Column("object_id", String),
    Column("submit_timestamp", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("start_timestamp", DateTime(timezone=True)),
    Column("end_timestamp", DateTime(timezone=True)),
    indexes=(("environment", "status"),),
)

scheduled_scans = _table(
    "scheduled_scans",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("environment", String, nullable=False),
    Column("freq", String, nullable=False),
    Column("scheduled_timestamp", DateTime(timezone=True)),
    indexes=(("environment",),),
)

messages = _table(
    "messages",
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("environment", String),
    Column("source_system", String, nullable=False),
    Column("level", String, nullable=False),
    Column("event_type", String),
    Column("related_object", String),
    Column("related_object_type", String),
    Column("timestamp", DateTime(timezone=True), nullable=False, server_default=func.now()),
    indexes=(("environment", "timestamp"), ("environment", "related_object")),
)

constants = _table("constants", Column("name", String, primary_key=True))

users = _table(
    "users",
    Column("name", String, primary_key=True),
    Column("password_hash", String, nullable=False),
    Column("role", String, nullable=False, server_default="read-only"),
    _now(),
)

api_tokens = _table(
    "api_tokens",
    Column("token_hash", String, primary_key=True),
    Column("username", String, nullable=False),
    Column("role", String, nullable=False),
    Column("method", String, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

monitoring_results = _table(
    "monitoring_results",
    Column("environment", String, primary_key=True),
    Column("check_name", String, primary_key=True),
    Column("object_id", String),
    Column("object_type", String),
    Column("status", String, nullable=False),
    Column("status_value", Integer, nullable=False),
    Column("status_text", Text),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    indexes=(("environment", "object_id"),),
)

history = _table(
    "history",
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", KEY, nullable=False),  # 'object' or 'link'
    Column("environment", KEY, nullable=False),
    Column("key", Text(collation="C"), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True)),
    indexes=(("environment", "kind", "valid_from"), ("environment", "kind", "valid_to")),
    gin=False,  # read by time span first; every change lands here too
)

# A version's document is the row as JSON with its JSONB ``doc`` merged in, without the
# fields that change on every scan. An update that changes nothing else is no new
# version. Times are the transaction's: one scan commit is one point in history.
# HISTORY_SQL is the history as revision 0001 created it (current versions kept in
# ``history`` too, the unique index ``ux_history_current`` on them); revision 0002
# replaces it, and returns to it on downgrade.
HISTORY_SQL = """
CREATE OR REPLACE FUNCTION calipso_history_doc(hkind text, row_json jsonb) RETURNS jsonb AS $$
    SELECT (row_json - 'doc' - 'last_scanned' - CASE hkind WHEN 'link' THEN 'id' ELSE '' END)
           || (row_json -> 'doc')
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION calipso_history_key(hkind text, row_json jsonb) RETURNS text AS $$
    SELECT CASE hkind WHEN 'object' THEN row_json ->> 'id'
           ELSE concat_ws('|', row_json ->> 'link_type', row_json ->> 'source_id',
                          row_json ->> 'target_id') END
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION calipso_history_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO history (kind, environment, key, valid_from, doc)
    SELECT TG_ARGV[0], n.environment, calipso_history_key(TG_ARGV[0], to_jsonb(n)), now(),
           calipso_history_doc(TG_ARGV[0], to_jsonb(n))
      FROM new_rows n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION calipso_history_updated() RETURNS trigger AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS calipso_changed (environment text, key text, doc jsonb) ON COMMIT DROP;
    TRUNCATE calipso_changed;
    INSERT INTO calipso_changed
    SELECT n.environment, calipso_history_key(TG_ARGV[0], to_jsonb(n)), calipso_history_doc(TG_ARGV[0], to_jsonb(n))
      FROM new_rows n JOIN old_rows o
        ON o.environment = n.environment AND to_jsonb(o) ->> 'id' = to_jsonb(n) ->> 'id'
     WHERE calipso_history_doc(TG_ARGV[0], to_jsonb(n)) <> calipso_history_doc(TG_ARGV[0], to_jsonb(o));
    UPDATE history h SET valid_to = now()
      FROM calipso_changed c
     WHERE h.environment = c.environment AND h.kind = TG_ARGV[0] AND h.key = c.key AND h.valid_to IS NULL;
    INSERT INTO history (kind, environment, key, valid_from, doc)
    SELECT TG_ARGV[0], c.environment, c.key, now(), c.doc FROM calipso_changed c;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION calipso_history_deleted() RETURNS trigger AS $$
BEGIN
    UPDATE history h SET valid_to = now()
      FROM old_rows o
     WHERE h.environment = o.environment AND h.kind = TG_ARGV[0]
       AND h.key = calipso_history_key(TG_ARGV[0], to_jsonb(o)) AND h.valid_to IS NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_history_inserted AFTER INSERT ON inventory REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_inserted('object');
CREATE TRIGGER inventory_history_updated AFTER UPDATE ON inventory
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_updated('object');
CREATE TRIGGER inventory_history_deleted AFTER DELETE ON inventory REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_deleted('object');
CREATE TRIGGER links_history_inserted AFTER INSERT ON links REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_inserted('link');
CREATE TRIGGER links_history_updated AFTER UPDATE ON links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_updated('link');
CREATE TRIGGER links_history_deleted AFTER DELETE ON links REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_history_deleted('link');
"""
