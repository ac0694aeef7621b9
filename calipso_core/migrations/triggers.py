"""What the schema revisions share about triggers."""

from __future__ import annotations

from alembic import op


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
