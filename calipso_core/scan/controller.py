"""A whole scan: inventory, links, cliques; its ``scans`` record and its messages.

The inventory phase writes everything it finds in one transaction (while it walks, see
``_StreamedWrites``) and then removes the objects it no longer sees, but only under
subtrees whose fetches all succeeded, so one unreachable host leaves that host's objects
as they were and the scan "completed with errors". History keeps whatever was removed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import SimpleQueue

from sqlalchemy import delete, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from calipso_core import messages
from calipso_core.errors import CalipsoError, NotFound
from calipso_core.listener import declare_queues
from calipso_core.scan.cliques import build_cliques
from calipso_core.scan.context import ScanContext
from calipso_core.scan.engine import InventoryScan, assign_paths, collector_paused, environment_root
from calipso_core.scan.links import find_links, link_key
from calipso_core.scan.tree import ROOT, ScannerTree
from calipso_core.store.inventory import (
    DOC_HASH,
    analyze,
    content_hash,
    copy_rows,
    digest_changes,
    doc_hash,
    one_of,
    split_document,
)
from calipso_core.store.tables import clique_constraints, clique_types, cliques, inventory, links, scans

PHASES = ("inventory", "links", "cliques")
#: The table each phase rewrites.
PHASE_TABLES = {"inventory": inventory, "links": links, "cliques": cliques}
#: A table's statistics are refreshed after a phase that changed more than this share of its
#: rows (autovacuum would do it later, at its default scale factor).
ANALYZED_ABOVE = 0.1
Progress = Callable[[str, int, int], None]


@dataclass
class ScanSummary:
    scan_id: int
    environment: str
    status: str = "running"
    objects: Counter = field(default_factory=Counter)
    links: Counter = field(default_factory=Counter)
    cliques: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)

    def as_document(self) -> dict:
        return {
            "objects": dict(self.objects), "links": dict(self.links), "cliques": self.cliques,
            "removed": self.removed, "errors": self.errors, "durations": self.durations,
        }


class Scan:
    """One scan of one environment, as ``calipso scan`` and the scan worker run it."""

    def __init__(self, app, env_name: str, only: str | None = None, object_id: str | None = None,
                 clear: bool = False, concurrency: int = 32, progress: Progress | None = None):
        self.app = app
        self.env = app.environments.get(env_name)
        # Loaded here, not inside a phase: a library that leaves garbage cycles holding the
        # frames of its import (netaddr does) would keep that phase's locals, everything
        # the scan found, alive until the collector runs.
        self.plugins = app.plugins
        self.only = only
        self.object_id = object_id
        self.clear = clear
        self.concurrency = concurrency
        self.progress = progress or (lambda phase, done, total: None)
        self.stored_links: list[dict] | None = None  # what the links phase stored
        self.started = datetime.now(UTC)

    def run(self) -> ScanSummary:
        summary = ScanSummary(self._create_record(), self.env["name"])
        ctx = ScanContext(self.env, self.app.inventory, {"concurrency": self.concurrency})
        try:
            # The collector comes back once what the scan read is let go: on before, its
            # first collection would walk all of it (0.15 s at 200 hosts).
            with collector_paused():
                try:
                    self._phases(ctx, summary)
                finally:
                    ctx.close()
                    self.stored_links = None
            summary.status = "completed_with_errors" if summary.errors else "completed"
        except Exception as error:
            summary.status = "failed"
            summary.errors.append(f"{type(error).__name__}: {error}")
            raise
        finally:
            self._finish(summary)
        return summary

    def _phases(self, ctx: ScanContext, summary: ScanSummary) -> None:
        """The phases asked for. Each returns how many rows of its table it changed (written
        or deleted) and how many it found: a table's statistics are refreshed after a phase
        that changed enough of it."""
        self._declare_queues(summary)
        if self.clear:
            self._clear()
        with ThreadPoolExecutor(1, thread_name_prefix="scan-analyze") as statistics:
            analyses = []  # the database refreshes each table's statistics while the next phase runs
            for phase in PHASES:
                if self.only in (None, phase):
                    started = time.perf_counter()
                    changed, rows = getattr(self, f"_{phase}")(ctx, summary)
                    if not self.object_id and changed > ANALYZED_ABOVE * rows:
                        analyses.append(statistics.submit(analyze, self.app.engine, PHASE_TABLES[phase]))
                    summary.durations[phase] = round(time.perf_counter() - started, 3)
            for analysis in analyses:
                analysis.result()

    # -- phases ------------------------------------------------------------------------

    def _inventory(self, ctx: ScanContext, summary: ScanSummary) -> tuple[int, int]:
        tree = ScannerTree.from_plugins(self.plugins)
        root, scanner = self._root(tree)
        store = self.app.inventory
        with store.engine.begin() as conn:
            writes = _StreamedWrites(store, ctx.name, self.started, conn)
            try:
                result = InventoryScan(ctx, tree, self.concurrency, lambda d, t: self.progress("inventory", d, t),
                                       on_objects=writes.add).run(scanner, root)
                writes.flush()
            finally:
                writes.close()
            ctx.forget_data()  # what the walk read: the later phases read the stored objects

            def known(object_id: str):
                return root if object_id == root["id"] else store.get(ctx.name, object_id, conn)

            orphans = assign_paths(result.objects, known)
            writes.write([d for oid, d in result.objects.items()
                          if oid not in orphans and writes.written.get(oid) is not d])
            # what is kept below a subtree that failed follows a renamed ancestor's name
            store.move_name_paths(ctx.name, [(writes.renamed[oid], result.objects[oid]["name_path"])
                                             for oid in result.failed_parents if oid in writes.renamed], conn)
            failed = [result.objects.get(oid) or known(oid) for oid in result.failed_parents]
            kept = [parent["id_path"] for parent in failed if parent and "id_path" in parent]
            removed = store.sweep(ctx.name, [root["id_path"]], self.started, conn, keep_under=kept)
            for failure in result.failures:
                text = f"{failure.fetcher} failed under {failure.parent_id}: {failure.message}"
                summary.errors.append(text)
                messages.record(conn, ctx.name, "Calipso", "error", text, event_type="scan.fetch",
                                related_object=failure.parent_id, host=failure.host, scan_id=summary.scan_id)
            for oid in orphans:
                summary.errors.append(f"object {oid} has no parent {result.objects[oid].get('parent_id')}")
            if not self.object_id and not result.failed_parents:  # what is stored is what was written
                ctx.hold_objects(writes.written.values())
        summary.objects = Counter(d["type"] for d in writes.written.values())
        summary.removed = len(removed)
        return writes.changed + len(removed), len(writes.written)

    def _links(self, ctx: ScanContext, summary: ScanSummary) -> tuple[int, int]:
        finders = list(self.plugins.records("calipso_link_finders").values())
        result = find_links(ctx, finders)
        self.progress("links", 1, 1)
        store = self.app.inventory
        with store.engine.begin() as conn:
            # Written: the links whose digest differs from the stored one; deleted: those no
            # longer found (but the links of a finder that failed); the others are left.
            found = {link_key(link): link for link in result.links}
            hashes = {key: content_hash(link) for key, link in found.items()}
            query = select(links.c.link_type, links.c.source_id, links.c.target_id, links.c.id, doc_hash).where(
                links.c.environment == ctx.name)
            ids, stored = {}, {}
            for link_type, source, target, link_id, digest in conn.execute(query):
                ids[link_type, source, target], stored[link_type, source, target] = link_id, digest
            written, gone = digest_changes(stored, hashes)
            changed = [{**found[key], "last_scanned": self.started, DOC_HASH: hashes[key]} for key in written]
            store.upsert_links(ctx.name, changed, conn)
            kept = result.failed_types(finders)
            gone = [key for key in gone if key[0] not in kept]
            store.delete_links(ctx.name, gone, conn)
            if not kept:  # what is stored now, ids and all: the cliques phase need not read it back
                if not ids.keys() >= found.keys():  # new links: their ids
                    ids = store.link_ids(ctx.name, conn)
                self.stored_links = [{**link, "id": ids[key]} for key, link in found.items()]
            for finder, text in result.failures:
                summary.errors.append(f"link finder {finder}: {text}")
                messages.record(conn, ctx.name, "Calipso", "error", text, event_type="scan.links", finder=finder)
        summary.links = result.by_type()
        return len(changed) + len(gone), len(found)

    def _cliques(self, ctx: ScanContext, summary: ScanSummary) -> tuple[int, int]:
        summary.cliques, changed = rebuild_cliques(self.app.engine, self.app.inventory, self.env, ctx.objects,
                                                   self.stored_links)
        self.progress("cliques", 1, 1)
        return changed, summary.cliques

    # -- helpers -----------------------------------------------------------------------

    def _declare_queues(self, summary: ScanSummary) -> None:
        """Create the environment's notification queues first, so that what changes during
        the scan waits there and its listener applies it after the scan."""
        try:
            declare_queues(self.env)
        except CalipsoError as error:
            summary.errors.append(f"notification queues not declared: {error}")

    def _root(self, tree: ScannerTree):
        if not self.object_id:
            return environment_root(self.env["name"]), ROOT
        obj = self.app.inventory.get(self.env["name"], self.object_id)
        if obj is None:
            raise NotFound(f"no object {self.object_id!r} in environment {self.env['name']!r}")
        for entries in tree.scanners.values():
            for ft in entries:
                if ft.type == obj["type"] and ft.children_scanner:
                    return obj, ft.children_scanner
        raise NotFound(f"objects of type {obj['type']!r} have nothing below them to scan")

    def _clear(self) -> None:
        with self.app.engine.begin() as conn:
            for table in (cliques, links):
                if self.only in (None, "links" if table is links else "cliques"):
                    conn.execute(delete(table).where(table.c.environment == self.env["name"]))
            if self.only in (None, "inventory"):
                self.app.inventory.delete_environment(self.env["name"], conn)

    def _create_record(self) -> int:
        doc = {"scan_only": self.only, "clear": self.clear, "concurrency": self.concurrency}
        with self.app.engine.begin() as conn:
            return conn.execute(
                insert(scans).values(environment=self.env["name"], status="running", object_id=self.object_id,
                                     start_timestamp=self.started, doc=doc).returning(scans.c.id)
            ).scalar_one()

    def _finish(self, summary: ScanSummary) -> None:
        with self.app.engine.begin() as conn:
            conn.execute(update(scans).where(scans.c.id == summary.scan_id).values(
                status=summary.status, end_timestamp=datetime.now(UTC),
                doc=scans.c.doc.op("||")(_jsonb(summary.as_document()))))
        if summary.status != "failed" and not self.object_id and self.only is None:
            self.app.environments.update(self.env["name"], scanned=True, last_scanned=self.started.isoformat())


def _jsonb(value):
    return literal(value, JSONB)


def rebuild_cliques(engine, store, env: dict, objects_of_type, all_links: list[dict] | None = None
                    ) -> tuple[int, int]:
    """Recompute every clique of ``env`` (from ``all_links`` when given, the environment's
    stored links, else from those read) and store those whose digest differs from the
    stored one, deleting those no longer found; returns how many there are and how many
    rows changed."""
    name = env["name"]
    with engine.begin() as conn:
        types = [row.doc | {"name": row.name} for row in conn.execute(select(clique_types))]
        constraints = {row.focal_point_type: row.doc.get("constraints", [])
                       for row in conn.execute(select(clique_constraints))
                       if row.environment in ("", name)}
        if all_links is None:
            all_links = store.find_links(name, conn=conn)
        found = {c["focal_point"]: c for c in build_cliques(env, types, constraints, objects_of_type, all_links)}
        hashes = {focal: content_hash(c) for focal, c in found.items()}
        stored = dict(conn.execute(select(cliques.c.focal_point, doc_hash).where(cliques.c.environment == name)).all())
        written, gone = digest_changes(stored, hashes)
        outdated = gone + [focal for focal in written if focal in stored]
        if outdated:
            conn.execute(delete(cliques).where(cliques.c.environment == name, one_of(cliques.c.focal_point, outdated)))
        at = datetime.now(UTC)
        copy_rows(conn, cliques, [{**split_document(cliques, name, {**found[focal], "last_scanned": at}),
                                   DOC_HASH: hashes[focal]} for focal in written])
    return len(found), len(written) + len(gone)


class _StreamedWrites:
    """Writes a walk's objects while it goes on, in the scan's transaction, from a thread
    of its own: the database stores one part while the walk fetches the next (storing
    24,000 objects took 1.7 s after the walk). ``written``: each object written, by id;
    ``renamed``: the stored paths of those whose name path changed."""

    CHUNK = 2000

    def __init__(self, store, environment: str, started: datetime, conn):
        self.store, self.environment, self.started, self.conn = store, environment, started, conn
        self.written: dict[str, dict] = {}
        self.changed = 0  # how many of them were written whole (not only seen again)
        self.renamed: dict[str, dict] = {}
        self._pending: list[dict] = []
        self._chunks: SimpleQueue = SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="scan-writes", daemon=True)
        self._thread.start()

    def add(self, docs: list[dict]) -> None:
        """Take objects as the walk completes them; those without paths yet are left."""
        if self._error is not None:
            raise self._error
        self._pending += [doc for doc in docs if "id_path" in doc]
        if len(self._pending) >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._chunks.put(self._pending)
            self._pending = []

    def close(self) -> None:
        """Wait for what was handed over; then the error of a write, if one failed."""
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def write(self, docs: list[dict]) -> None:
        """Write what changed; of the objects whose documents did not change (the same
        digest stored), only ``last_scanned`` (a rescan: nearly all of them)."""
        docs = {doc["id"]: doc for doc in docs}  # an object found twice: the last
        if not docs:
            return
        query = select(inventory.c.id, inventory.c.id_path, inventory.c.name_path, doc_hash).where(
            inventory.c.environment == self.environment, one_of(inventory.c.id, docs))
        hashes = {oid: content_hash(doc) for oid, doc in docs.items()}
        unchanged = []
        for row in self.conn.execute(query):
            if row.name_path != docs[row.id]["name_path"]:
                self.renamed[row.id] = {"id": row.id, "id_path": row.id_path, "name_path": row.name_path}
            if row.doc_hash == hashes[row.id]:
                unchanged.append(row.id)
        self.store.mark_scanned(self.environment, unchanged, self.started, self.conn)
        kept = set(unchanged)
        changed = [{**doc, "last_scanned": self.started, DOC_HASH: hashes[oid]}
                   for oid, doc in docs.items() if oid not in kept]
        self.store.upsert_objects(self.environment, changed, self.conn)
        self.written.update(docs)
        self.changed += len(changed)

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    self.write(chunk)
                except BaseException as error:  # noqa: BLE001 - raised in the scan's thread
                    self._error = error
