"""Rescanning one subtree inside an event's transaction, with the scan engine itself.

A handler that needs what only the sources know (a host's vNICs and bridges after an
instance boots) runs the same scanners and fetchers as a scan, from a stored object down,
with sources it may have narrowed to that object (``LiveSources.scope``). The result is
compared with what is stored under the root: only new and changed objects are written,
and with ``sweep`` what is no longer seen is removed, except under fetches that failed
(their objects are kept, as a scan does).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import or_, select

from calipso_core.scan.context import ScanContext
from calipso_core.scan.engine import FetchFailure, InventoryResult, InventoryScan, assign_paths
from calipso_core.scan.tree import ScannerTree
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import inventory
from calipso_core.types import Document


@dataclass
class RescanResult:
    """What a rescan wrote (new or changed objects; ``before``: the stored versions of
    those that existed), removed, and which fetches failed."""

    written: list[Document] = field(default_factory=list)
    before: dict[str, Document] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    failures: list[FetchFailure] = field(default_factory=list)


def without_children(tree: ScannerTree, scanner: str) -> ScannerTree:
    """The tree with ``scanner``'s entries cut below themselves (rescan one level only)."""
    scanners = dict(tree.scanners)
    scanners[scanner] = tuple(replace(ft, children_scanner=None) for ft in tree.scanners.get(scanner, ()))
    return ScannerTree(scanners, tree.fetchers)


def fetch_subtree(ev, root: Document, scanner: str, sources: ScanContext, *, recurse: bool = True,
                  concurrency: int | None = None) -> InventoryResult:
    """What the fetchers find under ``root`` now (no database access: may run in a thread)."""
    tree = ev.tree if recurse else without_children(ev.tree, scanner)
    workers = concurrency or sources.settings.get("concurrency", 4)
    pools = getattr(sources, "pools", None) if concurrency is None else None
    return InventoryScan(sources, tree, workers, pools=pools() if pools else None).run(scanner, root)


def store_subtree(ev, root: Document, found: InventoryResult, *, sweep: bool = True) -> RescanResult:
    """Write what ``fetch_subtree`` found under the stored ``root`` (see module doc)."""
    return store_subtrees(ev, [(root, found)], sweep=sweep)


def store_subtrees(ev, parts: list[tuple[Document, InventoryResult]], *, sweep: bool = True) -> RescanResult:
    """``store_subtree`` for several stored roots (several hosts) at once: one read of what
    is stored under them, one write, one delete."""
    roots = {root["id"]: root for root, _ in parts}
    found = InventoryResult()
    for _, part in parts:
        found.objects.update(part.objects)
        found.failures += part.failures
    if not roots:
        return RescanResult()
    if sweep:
        query = select(inventory).where(inventory.c.environment == ev.name, or_(
            *(inventory.c.id_path.startswith(root["id_path"] + "/", autoescape=True) for root in roots.values())))
        stored = {row.id: join_document(row) for row in ev.conn.execute(query)}
    else:
        stored = {d["id"]: d for d in ev.inventory.get_many(ev.name, list(found.objects), ev.conn)}
    parents: dict[str, Document | None] = dict(roots)

    def known(object_id: str) -> Document | None:
        if object_id not in stored and object_id not in parents:
            parents[object_id] = ev.get(object_id)
        return stored.get(object_id) or parents[object_id]

    objects = {oid: dict(doc) for oid, doc in found.objects.items()}
    orphans = set(assign_paths(objects, known))
    docs = [doc for oid, doc in objects.items() if oid not in orphans]
    written = ev.save_documents(docs, stored, known)
    result = RescanResult(written=written, before={d["id"]: stored[d["id"]] for d in written if d["id"] in stored},
                          failures=list(found.failures))
    if sweep:
        failed = [objects.get(oid) or known(oid) for oid in found.failed_parents]
        kept = tuple(parent["id_path"] + "/" for parent in failed if parent and "id_path" in parent)
        result.removed = [oid for oid, doc in stored.items()
                          if oid not in objects and not doc["id_path"].startswith(kept)]
        if result.removed:
            ev.inventory.delete_objects(ev.name, result.removed, ev.conn)
            ev.forget_objects(result.removed)
    for failure in found.failures:
        ev.report("error", f"{failure.fetcher} failed under {failure.parent_id}: {failure.message}",
                  related_object=failure.parent_id, host=failure.host, reason="fetch failed")
    for oid in orphans:
        ev.report("warn", f"object {oid} has no parent {found.objects[oid].get('parent_id')}", related_object=oid,
                  reason="no parent")
    return result


def rescan_subtree(ev, root: Document, scanner: str, sources: ScanContext, *, sweep: bool = True,
                   recurse: bool = True, concurrency: int | None = None) -> RescanResult:
    """Run ``scanner`` under the stored object ``root`` and store the result in ``ev.conn``.

    ``recurse=False`` fetches the scanner's own entries and not what is below them (what
    is stored below them stays, its name paths following theirs); it needs ``sweep=False``,
    which only adds and replaces (use it when ``sources`` were narrowed to a few objects of
    a collection). A sweeping rescan always recurses: it would remove what it did not fetch.
    """
    found = fetch_subtree(ev, root, scanner, sources, recurse=recurse or sweep, concurrency=concurrency)
    return store_subtree(ev, root, found, sweep=sweep)
