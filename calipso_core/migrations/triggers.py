"""What the schema revisions share about triggers."""

from __future__ import annotations

from alembic import op

#: A trigger's statements that clear a row's digest when a writer changed the row without
#: giving a new one (revisions 0007 and 0008).
CLEAR_OUTDATED_DIGEST = """\
    IF NEW.doc_hash IS NOT DISTINCT FROM OLD.doc_hash THEN
        NEW.doc_hash := NULL;  -- changed by a writer that did not say what it wrote
    END IF;
"""


def swap_trigger_function(table: str, trigger: str, old: str, new: str) -> None:
    """Create ``trigger`` on ``table`` again, calling the function ``new`` instead of
    ``old``; its timing and condition (every content column, spelled out when it was
    made) are kept as they are."""
    bind = op.get_bind()
    definition = bind.exec_driver_sql(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %(table)s::regclass AND tgname = %(trigger)s",
        {"table": table, "trigger": trigger}).scalar_one()
    bind.exec_driver_sql(f"DROP TRIGGER {trigger} ON {table};\n"
                         + definition.replace(f"FUNCTION {old}()", f"FUNCTION {new}()") + ";")
