"""Reading the inventory as it was: ``as_of`` one moment, ``diff`` between two.

A version of an object or link is current over the span ``[valid_from, valid_to)``. The
``history`` table holds the versions that ended; the current ones are the rows themselves,
with their ``valid_from`` (see ``tables.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, union, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

from calipso_core.store.inventory import match_conditions
from calipso_core.store.tables import history, inventory, links
from calipso_core.types import Document

KINDS = {"object": inventory, "link": links}


def _version_key(table):
    return func.calipso_version_key(literal_column(table.name))


def _valid_from(table):
    return literal_column(f"{table.name}.valid_from")


def _valid_at(environment: str, kind: str, moment: datetime, match: Document | None = None, keys=None):
    """The key and document of each version of ``kind`` current at ``moment``: from history
    those that ended since, and the rows current since. Only those containing ``match``,
    and only of ``keys`` (a query) if given."""
    table = KINDS[kind]
    ended = select(history.c.key, history.c.doc).where(
        history.c.environment == environment,
        history.c.kind == kind,
        history.c.valid_from <= moment,
        history.c.valid_to > moment,
    )
    current = select(
        _version_key(table).label("key"),
        func.calipso_version_doc(literal_column(table.name), type_=JSONB).label("doc"),
    ).where(*match_conditions(table, environment, match or {}), _valid_from(table) <= moment)
    if match:
        ended = ended.where(history.c.doc.contains(match))
    if keys is not None:
        ended, current = ended.where(history.c.key.in_(keys)), current.where(_version_key(table).in_(keys))
    return union_all(ended, current)


def _changed_keys(environment: str, kind: str, start: datetime, end: datetime):
    """The keys of ``kind`` that may differ between two moments: a version of theirs began
    or ended in between."""
    first, last = func.least(start, end), func.greatest(start, end)
    table = KINDS[kind]
    return union(
        select(history.c.key).where(
            history.c.environment == environment, history.c.kind == kind,
            or_(history.c.valid_from.between(first, last), history.c.valid_to.between(first, last))),
        select(_version_key(table)).where(table.c.environment == environment,
                                          _valid_from(table).between(first, last)),
    )


def as_of(engine: Engine, environment: str, moment: datetime, kind: str = "object",
          match: Document | None = None) -> list[Document]:
    """The objects (or links) of ``environment`` as they were at ``moment``,
    optionally only those containing ``match``."""
    versions = _valid_at(environment, kind, moment, match).subquery()
    with engine.connect() as conn:
        return [row.doc for row in conn.execute(select(versions.c.doc).order_by(versions.c.key))]


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
            keys = _changed_keys(environment, kind, start, end)
            before = _valid_at(environment, kind, start, keys=keys).subquery("before")
            after = _valid_at(environment, kind, end, keys=keys).subquery("after")
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
