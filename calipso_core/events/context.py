"""What an event handler receives: ``EventContext``.

A handler reads and changes the inventory through the context (in the batch's database
transaction), rescans subtrees with the environment's sources, and defers what should
be done once per batch however many events ask for it (``later``): rescanning a host
that ten events touched, recomputing its links (``relink``). The processor runs the
deferred actions, recomputes the cliques through everything that changed, then commits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from sqlalchemy import String, column, func, literal, update
from sqlalchemy.dialects.postgresql import JSONB

from calipso_core import messages
from calipso_core.errors import CalipsoError
from calipso_core.events.memory import EventMemory, Version, revision_of
from calipso_core.scan.engine import assign_paths
from calipso_core.store.tables import inventory
from calipso_core.types import Document

MAX_PAYLOAD_CHARS = 32_000
SOURCE_SYSTEM = "Calipso"


class EventError(CalipsoError):
    """Raised by a handler for a notification it cannot apply: a field missing or of the
    wrong kind, or an object it needs that is not there. The listener records it as a
    message (level, event type, reason, payload, related object) and goes on."""

    def __init__(self, reason: str, related_object: str | None = None, related_object_type: str | None = None,
                 level: str = "error"):
        self.reason, self.related_object, self.related_object_type, self.level = (
            reason, related_object, related_object_type, level)
        super().__init__(reason)


def payload_for_message(payload: Any) -> Any:
    """The payload as it can be stored in a message: JSON that PostgreSQL accepts (no NUL
    characters), cut to ``MAX_PAYLOAD_CHARS`` (then kept as text)."""
    try:
        text = json.dumps(payload, default=repr)
    except (TypeError, ValueError, RecursionError) as error:
        return f"(payload not representable as JSON: {type(error).__name__})"
    if "\\u0000" in text:
        text = text.replace("\\u0000", "\\\\u0000")
        payload = None
    if len(text) > MAX_PAYLOAD_CHARS:
        return text[:MAX_PAYLOAD_CHARS] + f"... ({len(text)} characters)"
    return payload if payload is not None else text


#: Fields that do not make an object different: when it was last seen, what monitoring set,
#: the revision an event stamped.
NOT_CONTENT = frozenset({"last_scanned", "status", "status_text", "status_value", "status_timestamp",
                         "revision_number"})


def _content(doc: Document) -> Document:
    """What an object is (``None`` values and ``NOT_CONTENT`` left out)."""
    return {k: v for k, v in doc.items() if v is not None and k not in NOT_CONTENT}


def clean(value: Any) -> Any:
    """Text PostgreSQL accepts: strings without NUL characters (lists and dicts too)."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


class EventContext:
    """One batch of notifications of one environment being applied."""

    def __init__(self, app, environment: Document, conn, sources, tree, memory: EventMemory,
                 hostless_types: Callable[[], set[str]] | None = None):
        self.app, self.environment, self.name = app, environment, environment["name"]
        self.inventory, self.conn, self.sources, self.tree, self.memory = (
            app.inventory, conn, sources, tree, memory)
        self.notification = None  # the one being handled
        self.stats: Counter = Counter()
        # What the cliques are recomputed for at the end: objects written, removed, links.
        self.changed: set[str] = set()
        self.removed: set[str] = set()
        self.changed_links: list[Document] = []
        self.hosts_to_relink: set[str] = set()
        self.host_fields: dict[str, str] = {}
        self._later: dict[Hashable, Callable[[EventContext], Any]] = {}
        self._items: dict[Hashable, dict[Hashable, None]] = {}
        self._hostless_types = hostless_types

    # -- reading -------------------------------------------------------------------------

    def hostless_types(self) -> set[str]:
        """Object types with objects on no host (kept by the processor for a while)."""
        from calipso_core.events.relink import hostless_types

        if self._hostless_types is not None:
            return self._hostless_types()
        return hostless_types(self.conn, self.name)

    def get(self, object_id: str) -> Document | None:
        return self.inventory.get(self.name, object_id, self.conn)

    def find(self, match: Mapping[str, Any], limit: int | None = None) -> list[Document]:
        return self.inventory.find(self.name, dict(match), limit=limit, conn=self.conn)

    # -- changing ------------------------------------------------------------------------

    def save_documents(self, docs: list[Document], stored: Mapping[str, Document] | None = None,
                       known: Callable[[str], Document | None] | None = None) -> list[Document]:
        """Write complete documents (paths computed here from the parents) that are new or
        differ from what is stored (``stored``: the stored documents by id, when the
        caller has them; ``known``: how the caller finds a stored object, parents
        included); when an object's name path changes, its descendants' follow.
        Returns what was written."""
        if not docs:
            return []
        fresh = {d["id"]: {k: v for k, v in d.items() if k not in ("id_path", "name_path")} for d in docs}
        if stored is None:
            stored = {d["id"]: d for d in self.inventory.get_many(self.name, list(fresh), self.conn)}
        orphans = assign_paths(fresh, known or (lambda oid: stored.get(oid) or self.get(oid)))
        if orphans:
            raise EventError(f"no parent for {', '.join(sorted(orphans))}", related_object=orphans[0])
        written = [doc for oid, doc in fresh.items() if oid not in stored or _content(stored[oid]) != _content(doc)]
        self.inventory.upsert_objects(self.name, written, self.conn)
        self.inventory.move_name_paths(self.name, [
            (stored[doc["id"]], doc["name_path"]) for doc in written
            if doc["id"] in stored and stored[doc["id"]].get("name_path") != doc["name_path"]], self.conn)
        self.changed |= {doc["id"] for doc in written}
        self.stats["objects_written"] += len(written)
        return written

    def stamp(self, object_id: str, **fields: Any) -> None:
        """Add fields to a stored object's document (e.g. the revision an event applied)."""
        self.stamp_many({object_id: fields})

    def stamp_many(self, fields_by_id: Mapping[str, Mapping[str, Any]]) -> None:
        """``stamp`` several objects, each with its own fields, in one statement."""
        if not fields_by_id:
            return
        stamps = func.jsonb_each(literal(dict(fields_by_id), JSONB)).table_valued(
            column("key", String), column("value", JSONB)).alias("stamps")
        self.conn.execute(update(inventory).where(inventory.c.environment == self.name, inventory.c.id == stamps.c.key)
                          .values(doc=inventory.c.doc.op("||")(stamps.c.value)))

    def delete(self, object_id: str, version: Version | None = None) -> list[str]:
        """Delete an object with everything below it and their links; remembers the
        deletion (with ``version``) so that late events about it are found stale."""
        ids = self.inventory.delete_subtree(self.name, object_id, self.conn)
        self.memory.deleted(object_id, version or self.version())
        self.forget_objects(ids)
        return ids

    def forget_objects(self, ids: Iterable[str]) -> None:
        """Note objects removed by other means (a sweep): the cliques through them are
        recomputed."""
        ids = list(ids)
        self.removed |= set(ids)
        self.stats["objects_removed"] += len(ids)

    # -- freshness -----------------------------------------------------------------------

    def version(self, revision: Any = None) -> Version:
        """The version of the notification being handled (``revision`` from its payload)."""
        sent = self.notification.timestamp if self.notification is not None else ""
        return Version(revision_of(revision), sent or "")

    def is_stale(self, object_id: str, version: Version, stored: Document | None = None) -> bool:
        """True when the object was deleted by a newer event, or ``stored`` (the stored
        document, when the caller has it) has a higher revision."""
        deleted = self.memory.deletion_of(object_id)
        if deleted is not None and not deleted.older_than(version):
            return True
        if stored is None:
            return False
        return version.older_than(Version(revision_of(stored.get("revision_number")), ""))

    # -- deferred work -------------------------------------------------------------------

    def later(self, key: Hashable, action: Callable[[EventContext], Any]) -> None:
        """Run ``action(ctx)`` once at the end of the batch, however many events ask."""
        self._later.setdefault(key, action)

    def later_for(self, key: Hashable, item: Hashable, action: Callable[[EventContext, list], Any]) -> None:
        """Run ``action(ctx, items)`` once at the end of the batch with every item asked
        for under ``key`` (in the order first asked), e.g. every host to rescan, so that
        the action can work on them together. An item stays even if the event that asked
        for it fails."""
        items = self._items.setdefault(key, {})
        items[item] = None
        self.later(key, lambda ctx: action(ctx, list(self._items.pop(key, {}))))

    def relink(self, host: str, host_fields: Mapping[str, str] | None = None) -> None:
        """Recompute the links of ``host`` at the end of the batch. ``host_fields`` names,
        per object type, the field that holds the host when it is not ``host``."""
        self.hosts_to_relink.add(host)
        self.host_fields.update(host_fields or {})

    def pending(self) -> int:
        """A mark for ``discard_since`` (taken before each event)."""
        return len(self._later)

    def discard_since(self, mark: int) -> None:
        """Forget what a failed event deferred."""
        for key in list(self._later)[mark:]:
            del self._later[key]

    def take_deferred(self) -> list[tuple[Hashable, Callable[[EventContext], Any]]]:
        actions, self._later = list(self._later.items()), {}
        return actions

    # -- telling operators ---------------------------------------------------------------

    def report(self, level: str, text: str, *, related_object: str | None = None,
               related_object_type: str | None = None, **details: Any) -> None:
        """Record a message about the notification being handled (or the batch)."""
        note = self.notification
        if note is not None:
            details = {"message_id": note.message_id, "publisher_id": note.publisher_id,
                       "priority": note.priority, **details}
        messages.record(self.conn, self.name, SOURCE_SYSTEM, level, clean(text),
                        event_type=clean(note.event_type) if note is not None else None,
                        related_object=clean(related_object), related_object_type=clean(related_object_type),
                        **clean(details))
        self.stats[f"messages_{level}"] += 1
