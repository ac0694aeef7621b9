"""History keeps past versions only; the current version of an object or link is its row.

Revision 0001 wrote every new row into ``history`` as well, and on each change closed the
current history row and wrote the next one. Here each ``inventory`` and ``links`` row gets
``valid_from``, the start of its current version, and ``history`` receives a version only
when it ends (the row changes or is deleted). ``calipso_version_key`` and
``calipso_version_doc`` give a row's current version as history keeps it.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from calipso_core.store.tables import HISTORY_SQL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A version's document is its row's ``doc`` with these columns merged in. A change to any
# of them or to ``doc`` starts a new version; ``last_scanned`` changes without one. A later
# revision that adds a column to either table must add it here too.
DOC_COLUMNS = {
    "inventory": ("environment", "id", "type", "name", "parent_id", "parent_type", "id_path",
                  "name_path", "host", "status"),
    "links": ("environment", "link_type", "source_id", "target_id", "link_name", "host", "state",
              "status", "implicit"),
}
KINDS = {"inventory": "object", "links": "link"}
# A row's key in history, for a row named ``r``.
KEYS = {"inventory": "{r}.id", "links": "concat_ws('|', {r}.link_type, {r}.source_id, {r}.target_id)"}

COMMON_SQL = """
CREATE FUNCTION calipso_version_started() RETURNS trigger AS $$
BEGIN
    NEW.valid_from := now();
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# The versions that an update ended are those whose row now starts a new one; an update
# in the transaction that started a version leaves no empty span behind. EXECUTE plans the
# statement for the transition tables at hand: a plan kept from a call on one row would
# join a call on 100,000 rows in a nested loop.
TABLE_SQL = """
CREATE FUNCTION calipso_version_key(t {table}) RETURNS text AS $$
    SELECT {key_t}
$$ LANGUAGE sql IMMUTABLE;
CREATE FUNCTION calipso_version_doc(t {table}) RETURNS jsonb AS $$
    SELECT {doc_t}
$$ LANGUAGE sql STABLE;

CREATE FUNCTION calipso_{table}_superseded() RETURNS trigger AS $$
BEGIN
    EXECUTE $sql$
    INSERT INTO history (kind, environment, key, valid_from, valid_to, doc)
    SELECT '{kind}', o.environment, {key}, o.valid_from, now(), {doc}
      FROM old_rows o
     WHERE o.valid_from < now()
       AND NOT EXISTS (SELECT FROM new_rows n WHERE n.environment = o.environment AND n.id = o.id
                                                AND n.valid_from = o.valid_from)
    $sql$;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION calipso_{table}_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO history (kind, environment, key, valid_from, valid_to, doc)
    SELECT '{kind}', o.environment, {key}, o.valid_from, now(), {doc}
      FROM old_rows o
     WHERE o.valid_from < now();
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER {table}_version_started BEFORE UPDATE ON {table} FOR EACH ROW
    WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION calipso_version_started();
CREATE TRIGGER {table}_versions_superseded AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_{table}_superseded();
CREATE TRIGGER {table}_versions_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION calipso_{table}_deleted();
"""

OLD_TRIGGERS = ("history_inserted", "history_updated", "history_deleted")


def _doc(table: str, row: str) -> str:
    pairs = ", ".join(f"'{c}', {row}.{c}" for c in DOC_COLUMNS[table])
    return f"jsonb_build_object({pairs}) || {row}.doc"


def _table_sql(table: str) -> str:
    """The table's version functions and triggers. The triggers spell the key and document
    out: rows of a transition table are records, which an overloaded function does not take."""
    columns = (*DOC_COLUMNS[table], "doc")
    return TABLE_SQL.format(
        table=table, kind=KINDS[table], key=KEYS[table].format(r="o"), doc=_doc(table, "o"),
        key_t=KEYS[table].format(r="t"), doc_t=_doc(table, "t"),
        old=", ".join(f"OLD.{c}" for c in columns), new=", ".join(f"NEW.{c}" for c in columns))


def upgrade() -> None:
    bind = op.get_bind()
    for table, kind in KINDS.items():
        key = KEYS[table].format(r="t")
        bind.exec_driver_sql(
            "".join(f"DROP TRIGGER {table}_{name} ON {table};\n" for name in OLD_TRIGGERS)
            + f"ALTER TABLE {table} ADD COLUMN valid_from timestamptz NOT NULL DEFAULT now();\n"
            # Room for rescans' HOT updates (see tables.RESCANNED); pages written from now on.
            + f"ALTER TABLE {table} SET (fillfactor = 50);\n"
            # The current version moves from history to its row.
            + f"WITH current AS (DELETE FROM history h USING {table} t WHERE h.kind = '{kind}'"
              f" AND h.valid_to IS NULL AND h.environment = t.environment AND h.key = {key}"
              f" RETURNING h.environment, h.key, h.valid_from)"
              f" UPDATE {table} t SET valid_from = c.valid_from FROM current c"
              f" WHERE c.environment = t.environment AND c.key = {key};\n"
        )
    bind.exec_driver_sql(
        # A current version without its row (only if the triggers were bypassed) ends now.
        "UPDATE history SET valid_to = now() WHERE valid_to IS NULL;\n"
        "DROP INDEX IF EXISTS ux_history_current;\n"
        # No query searches names by prefix (search looks inside them): the index only cost writes.
        "DROP INDEX IF EXISTS ix_inventory_name_lower;\n"
        "DROP FUNCTION calipso_history_inserted(), calipso_history_updated(), calipso_history_deleted(),"
        " calipso_history_key(text, jsonb), calipso_history_doc(text, jsonb);\n"
        + COMMON_SQL + "".join(map(_table_sql, KINDS))
    )


def downgrade() -> None:
    bind = op.get_bind()
    for table, kind in KINDS.items():
        bind.exec_driver_sql(
            f"DROP TRIGGER {table}_version_started ON {table};\n"
            f"DROP TRIGGER {table}_versions_superseded ON {table};\n"
            f"DROP TRIGGER {table}_versions_deleted ON {table};\n"
            f"INSERT INTO history (kind, environment, key, valid_from, doc) SELECT '{kind}', t.environment,"
            f" calipso_version_key(t), t.valid_from, calipso_version_doc(t) FROM {table} t;\n"
            f"DROP FUNCTION calipso_{table}_superseded(), calipso_{table}_deleted(),"
            f" calipso_version_key({table}), calipso_version_doc({table});\n"
            f"ALTER TABLE {table} DROP COLUMN valid_from;\n"
            f"ALTER TABLE {table} RESET (fillfactor);\n"
        )
    bind.exec_driver_sql(
        "DROP FUNCTION calipso_version_started();\n"
        "CREATE UNIQUE INDEX ux_history_current ON history (environment, kind, key) WHERE valid_to IS NULL;\n"
        "CREATE INDEX ix_inventory_name_lower ON inventory (lower(name) text_pattern_ops);\n"
        + HISTORY_SQL
    )
