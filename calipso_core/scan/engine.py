"""The inventory phase of a scan: walk the scanner tree from a root object down.

Each (fetch type, parent object) pair is one task, run in the thread pool of its
fetcher's source (``api``, ``cli``, ``rest``), so that independent subtrees are fetched
concurrently. Objects are collected in memory, with their paths when they hang under the
object they were fetched under (the others get theirs from the parent chain once
everything is in); the caller may write them as they come (``on_objects``). A task that
fails is recorded with the object it was fetching under; the rest of the scan goes on.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from queue import SimpleQueue

from calipso_core.errors import CalipsoError
from calipso_core.scan.context import ScanContext
from calipso_core.scan.tree import ScannerTree
from calipso_core.types import Document, FetchType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchFailure:
    """A fetch that failed: under which object, with which fetcher, and why."""

    parent_id: str
    object_type: str
    fetcher: str
    host: str | None
    message: str


@dataclass
class InventoryResult:
    objects: dict[str, Document] = field(default_factory=dict)
    failures: list[FetchFailure] = field(default_factory=list)
    tasks: int = 0

    @property
    def failed_parents(self) -> set[str]:
        return {f.parent_id for f in self.failures}


@dataclass(frozen=True)
class _Task:
    fetch_type: FetchType
    parent: Document        # the object the children hang under
    fetch_parent: Document  # what the fetcher receives (see object_id_to_use_in_child)


#: Fields an object takes from its parent when its fetcher does not set them.
INHERITED = ("host", "region")


def folder_object(ft: FetchType, parent: Document) -> Document:
    return {
        **{key: parent[key] for key in INHERITED if parent.get(key)},
        "id": f"{parent['id']}-{ft.folder.types_name}",
        "type": ft.type,
        "name": ft.folder.text or ft.folder.types_name,
        "text": ft.folder.text or ft.folder.types_name,
        "parent_id": parent["id"],
        "parent_type": parent["type"],
        "create_object": True,
    }


class _CollectorPause:
    """Keeps Python's cyclic garbage collector off while a scan or a batch of events asks it
    to: they allocate tens of thousands of documents (parsed host states, cliques), and
    every collection would walk all that is alive again, for nothing. Reference counting
    still frees what is dropped; the collector is back on, if it was, when the last ends."""

    def __init__(self):
        self._lock = threading.Lock()
        self._count = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._count == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0 and self._was_enabled:
                    gc.enable()


collector_paused = _CollectorPause()


SOURCES = ("api", "cli", "rest")


def source_pools(concurrency: int) -> dict[str, ThreadPoolExecutor]:
    """One bounded thread pool per kind of source."""
    return {source: ThreadPoolExecutor(max(1, concurrency), thread_name_prefix=f"scan-{source}")
            for source in SOURCES}


class InventoryScan:
    """Runs the scanner tree with one bounded thread pool per source: its own, or
    ``pools`` (``source_pools``) that outlive it (a listener's, shared by its rescans)."""

    def __init__(self, ctx: ScanContext, tree: ScannerTree, concurrency: int = 16,
                 on_progress: Callable[[int, int], None] | None = None,
                 pools: dict[str, ThreadPoolExecutor] | None = None,
                 on_objects: Callable[[list[Document]], None] | None = None):
        """``on_objects`` is given the objects of each fetch as they come in: those under
        the object they were fetched under have their paths already."""
        self.ctx = ctx
        self.tree = tree
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress or (lambda done, total: None)
        self.on_objects = on_objects or (lambda docs: None)
        self.pools = pools

    def run(self, scanner: str, root: Document) -> InventoryResult:
        result = InventoryResult()
        pools = self.pools or source_pools(self.concurrency)
        pending: dict[Future, _Task] = {}
        finished: SimpleQueue[Future] = SimpleQueue()  # futures put there as they end

        def submit(task: _Task) -> None:
            future = self._submit(pools, task)
            pending[future] = task
            result.tasks += 1
            future.add_done_callback(finished.put)

        done_count = 0
        try:
            for task in self._tasks(scanner, root, root):
                submit(task)
            while pending:
                ended = [finished.get()]
                while not finished.empty():
                    ended.append(finished.get())
                for future in ended:
                    for child in self._collect(pending.pop(future), future, result):
                        submit(child)
                    done_count += 1
                self.on_progress(done_count, result.tasks)
        finally:
            if pools is not self.pools:
                for pool in pools.values():
                    pool.shutdown(wait=True, cancel_futures=True)
        return result

    def _tasks(self, scanner: str, parent: Document, fetch_parent: Document) -> list[_Task]:
        return [_Task(ft, parent, fetch_parent) for ft in self.tree.fetch_types(scanner, self.ctx.environment)]

    def _submit(self, pools, task: _Task) -> Future:
        ft = task.fetch_type
        if ft.folder is not None:
            future: Future = Future()
            future.set_result([folder_object(ft, task.parent)])
            return future
        fetcher = self.tree.fetchers[ft.fetcher]
        return pools.get(fetcher.source, pools["api"]).submit(self._fetch, fetcher, task)

    def _fetch(self, fetcher, task: _Task) -> list[Document]:
        started = time.perf_counter()
        docs = list(fetcher.fetch(self.ctx, task.fetch_parent) or ())
        log.debug("%s under %s: %d objects in %.3f s", fetcher.name, task.parent["id"], len(docs),
                  time.perf_counter() - started)
        return docs

    def _collect(self, task: _Task, future: Future, result: InventoryResult) -> list[_Task]:
        ft = task.fetch_type
        try:
            docs = future.result()
        except Exception as error:  # noqa: BLE001 - any fetch failure is recorded, the scan goes on
            message = str(error) if isinstance(error, CalipsoError) else f"{type(error).__name__}: {error}"
            result.failures.append(FetchFailure(task.parent["id"], ft.type, ft.fetcher or "folder",
                                                task.parent.get("host"), message))
            return []
        children, completed = [], []
        for doc in docs:
            doc = self._complete(doc, ft, task.parent)
            if doc["parent_id"] == task.parent["id"] and "id_path" in task.parent:
                _set_paths(doc, task.parent["id_path"], task.parent["name_path"])
            result.objects[doc["id"]] = doc
            completed.append(doc)
            if ft.children_scanner:
                fetch_parent = doc
                if ft.object_id_to_use_in_child:
                    fetch_parent = {**doc, "id": doc.get(ft.object_id_to_use_in_child, doc["id"])}
                children += self._tasks(ft.children_scanner, doc, fetch_parent)
        self.on_objects(completed)
        return children

    def _complete(self, doc: Document, ft: FetchType, parent: Document) -> Document:
        doc = dict(doc)
        doc["id"] = str(doc["id"])
        doc["type"] = ft.type
        doc.setdefault("name", doc["id"])
        doc.setdefault("parent_id", parent["id"])
        doc.setdefault("parent_type", parent["type"])
        doc["environment"] = self.ctx.name
        doc.setdefault("show_in_tree", True)
        for key in INHERITED:
            if key not in doc and parent.get(key):
                doc[key] = parent[key]
        return doc


def _set_paths(doc: Document, parent_id_path: str, parent_name_path: str) -> None:
    doc["id_path"] = f"{parent_id_path}/{doc['id']}"
    doc["name_path"] = f"{parent_name_path}/{doc['name']}"
    doc["object_name"] = doc.get("object_name") or doc["name"]


def assign_paths(objects: dict[str, Document], known: Callable[[str], Document | None]) -> list[str]:
    """Set ``id_path``, ``name_path`` and ``object_name`` of every object from its parent
    chain (parents outside ``objects`` are looked up with ``known``). Returns the ids of
    objects whose parent cannot be found; they are left without paths."""
    return [object_id for object_id in list(objects) if _paths(object_id, objects, known) is None]


def _paths(object_id: str, objects: dict[str, Document], known: Callable[[str], Document | None],
           seen: tuple = ()) -> tuple[str, str] | None:
    """The id and name paths of ``object_id``, set on it and on its parents on the way
    (a function of its own, not a closure: a recursive closure is a reference cycle that
    would keep ``objects`` alive until the cyclic collector runs)."""
    doc = objects.get(object_id) or known(object_id)
    if doc is None or object_id in seen:
        return None
    if "id_path" in doc:
        return doc["id_path"], doc["name_path"]
    if doc.get("type") == "environment":
        return f"/{doc['id']}", f"/{doc['id']}"
    parent_paths = _paths(doc["parent_id"], objects, known, (*seen, object_id))
    if parent_paths is None:
        return None
    _set_paths(doc, *parent_paths)
    return doc["id_path"], doc["name_path"]


def environment_root(name: str) -> Document:
    """The pseudo object a scan starts from (it is not stored)."""
    return {"id": name, "type": "environment", "name": name, "id_path": f"/{name}", "name_path": f"/{name}"}
