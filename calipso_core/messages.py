"""The ``messages`` table: what Calipso tells operators (scan errors, bad notifications,
health changes), each with the object it concerns when known."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from calipso_core.store.tables import messages

LEVELS = ("panic", "alert", "critical", "error", "warn", "notify", "info", "debug")


def record(
    conn: Connection,
    environment: str | None,
    source_system: str,
    level: str,
    message: str,
    *,
    event_type: str | None = None,
    related_object: str | None = None,
    related_object_type: str | None = None,
    **details: Any,
) -> int:
    """Store one message in the caller's transaction; returns its id."""
    if level not in LEVELS:
        raise ValueError(f"message level {level!r} is not one of {', '.join(LEVELS)}")
    doc = {"message": message, **details}
    return conn.execute(
        messages.insert()
        .values(environment=environment, source_system=source_system, level=level, event_type=event_type,
                related_object=related_object, related_object_type=related_object_type, doc=doc)
        .returning(messages.c.id)
    ).scalar_one()
