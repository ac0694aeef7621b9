"""Recomputing the links of a few hosts, not of the whole environment.

The link finders read the inventory through ``ctx.objects(type)``. ``HostView`` answers that
with the objects on the given hosts and the objects that are on no host (networks,
projects), reading through the event's transaction; a type whose objects name their host
in another field (a port's ``binding:host_id``) is narrowed by that field. Every link
finder runs over the view; the links they return that belong to those hosts replace the
hosts' stored links, and every link added, changed or removed is returned, because the
cliques that could walk it must be recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select

from calipso_core.scan.context import ScanContext
from calipso_core.scan.links import find_links, link_key
from calipso_core.store.inventory import doc_contains, join_document
from calipso_core.store.tables import inventory, links
from calipso_core.types import Document

#: What makes two versions of a link different.
LINK_FIELDS = ("link_name", "state", "attributes", "implicit", "host")


class HostView(ScanContext):
    """A ``ScanContext`` whose ``objects(type)`` are those of a few hosts (see module doc).

    The objects on the hosts are read in one query; objects on no host only for the types
    that have some (``hostless_types``), and types in ``host_fields`` by that field."""

    def __init__(self, ev, hosts: Iterable[str], host_fields: Mapping[str, str], hostless_types: set[str]):
        super().__init__(ev.environment, ev.inventory, {})
        self.ev, self.hosts, self.host_fields = ev, sorted(set(hosts)), dict(host_fields)
        self.hostless_types = hostless_types
        self._on_hosts: dict[str, list[Document]] | None = None

    def objects(self, object_type: str, without: tuple[str, ...] = ()) -> list[Document]:
        def load():
            found = self._load(object_type)
            return [{k: v for k, v in d.items() if k not in without} for d in found] if without else found

        return self.cached(("objects", object_type, without), load)

    def _load(self, object_type: str) -> list[Document]:
        field = self.host_fields.get(object_type)
        if field:
            query = select(inventory).where(
                inventory.c.environment == self.ev.name, inventory.c.type == object_type,
                doc_contains(inventory, *({field: host} for host in self.hosts))).order_by(inventory.c.id)
            return [join_document(row) for row in self.ev.conn.execute(query)]
        found = list(self._objects_on_hosts().get(object_type, ()))
        if object_type in self.hostless_types:
            query = select(inventory).where(inventory.c.environment == self.ev.name, inventory.c.type == object_type,
                                            inventory.c.host.is_(None)).order_by(inventory.c.id)
            found += [join_document(row) for row in self.ev.conn.execute(query)]
        return found

    def _objects_on_hosts(self) -> dict[str, list[Document]]:
        if self._on_hosts is None:
            self._on_hosts = {}
            query = select(inventory).where(inventory.c.environment == self.ev.name,
                                            inventory.c.host.in_(self.hosts)).order_by(inventory.c.id)
            for row in self.ev.conn.execute(query):
                self._on_hosts.setdefault(row.type, []).append(join_document(row))
        return self._on_hosts


def hostless_types(conn, environment: str) -> set[str]:
    """The object types of which some objects are on no host (networks, projects…)."""
    query = select(inventory.c.type).where(inventory.c.environment == environment,
                                           inventory.c.host.is_(None)).distinct()
    return set(conn.scalars(query))


def _differs(old: Document, new: Document) -> bool:
    return any((old.get(f) or None) != (new.get(f) or None) for f in LINK_FIELDS)


def relink_hosts(ev, hosts: Iterable[str], host_fields: Mapping[str, str]) -> list[Document]:
    """Replace the links of ``hosts`` by what the link finders find now; returns every
    link added or removed and both versions of every link changed."""
    hosts = set(hosts)
    if not hosts:
        return []
    view = HostView(ev, hosts, host_fields, ev.hostless_types())
    finders = list(ev.app.plugins.records("calipso_link_finders").values())
    result = find_links(view, finders)
    for finder, text in result.failures:
        ev.report("error", f"link finder {finder}: {text}", reason="link finder failed", finder=finder)
    failed_types = result.failed_types(finders)
    new = {link_key(link): link for link in result.links if link.get("host") in hosts}
    query = select(links).where(links.c.environment == ev.name, links.c.host.in_(sorted(hosts)))
    old = {link_key(link): link for link in map(join_document, ev.conn.execute(query))}
    now = datetime.now(UTC)
    changed = [link for key, link in new.items() if key not in old or _differs(old[key], link)]
    gone = [key for key in old if key not in new and key[0] not in failed_types]
    ev.inventory.upsert_links(ev.name, [{**link, "last_scanned": now} for link in changed], ev.conn)
    ev.inventory.delete_links(ev.name, gone, ev.conn)
    ev.stats["links_written"] += len(changed)
    ev.stats["links_removed"] += len(gone)
    return changed + [old[key] for key in gone] + [old[link_key(link)] for link in changed if link_key(link) in old]
