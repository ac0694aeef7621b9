"""Reading the inventory as it was: ``as_of`` one moment, ``diff`` between two.

The ``history`` table holds one row per version of each object and link with the span
``[valid_from, valid_to)`` it was current; triggers maintain it (see ``tables.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine

from calipso_core.store.tables import history
from calipso_core.types import Document

KINDS = ("object", "link")


def _valid_at(environment: str, kind: str, moment: datetime):
    return (
        select(history.c.key, history.c.doc)
        .where(
            history.c.environment == environment,
            history.c.kind == kind,
            history.c.valid_from <= moment,
            or_(history.c.valid_to.is_(None), history.c.valid_to > moment),
        )
    )


def as_of(engine: Engine, environment: str, moment: datetime, kind: str = "object",
          match: Document | None = None) -> list[Document]:
    """The objects (or links) of ``environment`` as they were at ``moment``,
    optionally only those containing ``match``."""
    query = _valid_at(environment, kind, moment)
    if match:
        query = query.where(history.c.doc.contains(match))
    with engine.connect() as conn:
        return [row.doc for row in conn.execute(query.order_by(history.c.key))]


def changed_fields(before: Document, after: Document) -> dict[str, dict[str, Any]]:
    """Each field whose value differs, with its value before and after."""
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    }


def diff(engine: Engine, environment: str, start: datetime, end: datetime) -> dict[str, dict[str, list]]:
    """What was added, removed and changed between ``start`` and ``end``, for objects
    and for links: ``{"objects": {"added": [...], "removed": [...], "changed": [...]}, ...}``.
    A changed entry is ``{"key", "type", "changes": {field: {"from", "to"}}}``."""
    result = {}
    with engine.connect() as conn:
        for kind in KINDS:
            before = _valid_at(environment, kind, start).subquery("before")
            after = _valid_at(environment, kind, end).subquery("after")
            query = (
                select(before.c.key, after.c.key.label("key_after"), before.c.doc, after.c.doc.label("doc_after"))
                .select_from(before.join(after, before.c.key == after.c.key, full=True))
                .where(or_(before.c.key.is_(None), after.c.key.is_(None),
                           and_(before.c.doc != after.c.doc)))
            )
            added, removed, changed = [], [], []
            for key, key_after, old, new in conn.execute(query):
                if key is None:
                    added.append(new)
                elif key_after is None:
                    removed.append(old)
                else:
                    kind_type = new.get("type", new.get("link_type"))
                    changed.append({"key": key, "type": kind_type, "changes": changed_fields(old, new)})
            result["objects" if kind == "object" else "links"] = {
                "added": added, "removed": removed, "changed": changed,
            }
    return result
