"""The scan engine on a small simulated cloud served by a test plugin (real PostgreSQL)."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from functools import cached_property

import pytest
from sqlalchemy.exc import OperationalError

from calipso_core import hookimpl
from calipso_core.context import Calipso
from calipso_core.errors import ConfigError, HostUnreachable
from calipso_core.events.sources import LiveSources
from calipso_core.plugins import PluginInfo, get_plugin_manager
from calipso_core.scan import controller
from calipso_core.scan.context import ScanContext
from calipso_core.scan.controller import Scan
from calipso_core.scan.engine import assign_paths, collector_paused
from calipso_core.scan.links import find_links
from calipso_core.scan.tree import ScannerTree
from calipso_core.seed import seed_defaults
from calipso_core.store import as_of
from calipso_core.types import CliqueType, Fetcher, FetchType, Folder, LinkFinder, Scanner

ENV = {"name": "toy", "distribution": "Calipso-lab", "distribution_version": "1", "mechanism_drivers": ["OVS"],
       "type_drivers": "vxlan", "listen": False, "configuration": []}


class ToyCloud:
    """A cloud the test can change between scans; counts concurrent fetches."""

    def __init__(self, hosts: int = 6, vnics: int = 3, delay: float = 0.0):
        self.hosts = {f"node-{h}": [f"node-{h}-tap{v}" for v in range(vnics)] for h in range(hosts)}
        self.unreachable: set[str] = set()
        self.links_fail = False
        self.delay = delay
        self.running = 0
        self.most_running = 0
        self.lock = threading.Lock()

    def fetch_hosts(self, ctx, parent):
        return [{"id": name, "name": name, "host": name} for name in self.hosts]

    def fetch_vnics(self, ctx, parent):
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(self.delay)
            if parent["host"] in self.unreachable:
                raise HostUnreachable(parent["host"], "connection refused")
            return [{"id": vnic, "name": vnic.rsplit("-", 1)[1], "mac_address": f"fa:16:3e:00:00:{i:02x}"}
                    for i, vnic in enumerate(self.hosts[parent["host"]])]
        finally:
            with self.lock:
                self.running -= 1

    @hookimpl
    def calipso_fetchers(self):
        return [Fetcher("toy.hosts", self.fetch_hosts, source="api"),
                Fetcher("toy.vnics", self.fetch_vnics, source="cli")]

    @hookimpl
    def calipso_scanners(self):
        return [
            Scanner("toy.root", (FetchType("hosts_folder", folder=Folder("hosts", "Hosts"),
                                           children_scanner="toy.hosts"),), extends="environment"),
            Scanner("toy.hosts", (FetchType("host", fetcher="toy.hosts", children_scanner="toy.host"),)),
            Scanner("toy.host", (FetchType("vnics_folder", folder=Folder("vnics", "vNICs"),
                                           children_scanner="toy.vnics"),)),
            Scanner("toy.vnics", (FetchType("vnic", fetcher="toy.vnics"),)),
        ]

    @hookimpl
    def calipso_link_finders(self):
        def host_vnic(ctx):
            if self.links_fail:
                raise RuntimeError("the finder failed")
            return [{"link_type": "host-vnic", "source_id": v["host"], "target_id": v["id"],
                     "link_name": v["name"], "host": v["host"]} for v in ctx.objects("vnic")]

        return [LinkFinder("toy.host-vnic", ("host-vnic",), host_vnic)]

    @hookimpl
    def calipso_clique_types(self):
        return [CliqueType("host", "host", ("host-vnic",))]


@pytest.fixture
def toy(calipso, calipso_database_url):
    cloud = ToyCloud()
    plugins = get_plugin_manager(load_entry_points=False)
    plugins.register_plugin(cloud, PluginInfo("toy", "calipso-test-toy", "0", "tests"))
    app = Calipso(calipso_database_url, plugins=plugins)
    app.engine = calipso.engine
    seed_defaults(app.engine, plugins)
    app.environments.save(dict(ENV))
    return app, cloud


def test_a_full_scan_finds_objects_links_and_cliques(toy):
    app, cloud = toy
    summary = Scan(app, "toy").run()
    assert summary.status == "completed", summary.errors
    assert summary.objects == {"hosts_folder": 1, "host": 6, "vnics_folder": 6, "vnic": 18}
    assert summary.links == {"host-vnic": 18}
    assert summary.cliques == 6
    vnic = app.inventory.get("toy", "node-2-tap1")
    assert vnic["id_path"] == "/toy/toy-hosts/node-2/node-2-vnics/node-2-tap1"
    assert vnic["name_path"] == "/toy/Hosts/node-2/vNICs/tap1"
    assert vnic["host"] == "node-2" and vnic["parent_type"] == "vnics_folder"
    assert app.environments.get("toy")["scanned"] is True


def test_an_unreachable_host_keeps_its_objects_and_the_rest_completes(toy):
    app, cloud = toy
    Scan(app, "toy").run()
    cloud.unreachable.add("node-3")
    cloud.hosts["node-1"].pop()  # gone from a host that answers: removed
    summary = Scan(app, "toy").run()
    assert summary.status == "completed_with_errors"
    assert summary.errors == ["toy.vnics failed under node-3-vnics: SSH host node-3 is unreachable: connection refused"]
    assert app.inventory.get("toy", "node-3-tap0") is not None
    assert app.inventory.get("toy", "node-1-tap2") is None
    assert summary.removed == 1
    with app.engine.connect() as conn:
        message = conn.exec_driver_sql("SELECT level, related_object, doc FROM messages").one()
    assert message.level == "error" and message.related_object == "node-3-vnics"
    assert message.doc["host"] == "node-3"


def test_a_removed_host_is_swept_and_kept_in_history(toy):
    app, cloud = toy
    Scan(app, "toy").run()
    with app.engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT now()").scalar()
    del cloud.hosts["node-5"]
    summary = Scan(app, "toy").run()
    assert summary.removed == 5  # the host, its folder and three vNICs
    assert app.inventory.find("toy", {"host": "node-5"}) == []
    assert app.inventory.find_links("toy", {"host": "node-5"}) == []
    assert {d["id"] for d in as_of(app.engine, "toy", before, match={"host": "node-5"})} == {
        "node-5", "node-5-vnics", "node-5-tap0", "node-5-tap1", "node-5-tap2"}


def test_objects_are_written_while_the_walk_goes_on_in_one_transaction(toy, monkeypatch):
    app, cloud = toy
    cloud.delay = 0.05
    monkeypatch.setattr(controller._StreamedWrites, "CHUNK", 4)
    writes, upsert = [], app.inventory.upsert_objects

    def recording(environment, docs, conn=None):
        writes.append((threading.current_thread().name, cloud.running, len(docs)))
        if cloud.hosts.get("node-9") and len(writes) == 2:
            raise OperationalError("MERGE", {}, Exception("the disk is full"))
        return upsert(environment, docs, conn)

    monkeypatch.setattr(app.inventory, "upsert_objects", recording)
    assert Scan(app, "toy", concurrency=2).run().status == "completed"
    assert sum(n for *_, n in writes) == 31 and len(writes) > 2
    assert any(thread == "scan-writes" and running for thread, running, _ in writes)  # while vNICs are fetched
    cloud.hosts["node-9"] = ["node-9-tap0"]
    writes.clear()
    with pytest.raises(OperationalError, match="the disk is full"):
        Scan(app, "toy", concurrency=2).run()
    assert writes[0][2] > 0 and app.inventory.get("toy", "node-9") is None  # the first part was not kept
    assert app.inventory.count("toy") == 31


def _stored_links_and_cliques(app) -> tuple[list, list]:
    with app.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT id, link_type, source_id, target_id, doc FROM links ORDER BY 1").all()
        cliques = conn.exec_driver_sql("SELECT focal_point, nodes, constraints, doc FROM cliques ORDER BY 1").all()
    return found, cliques


def test_a_whole_scan_finds_links_and_cliques_from_what_it_wrote(toy, monkeypatch):
    """The phases after the walk take the objects and links the scan stored in hand, not
    read back from the database, and find what reading them back would."""
    app, cloud = toy
    reads = []

    def counting(name, read):
        def counted(environment, match=None, *args, **kwargs):
            reads.append((name, match))
            return read(environment, match, *args, **kwargs)
        return counted

    for name in ("find", "find_links"):
        monkeypatch.setattr(app.inventory, name, counting(name, getattr(app.inventory, name)))
    assert Scan(app, "toy").run().status == "completed"
    assert reads == []
    held = _stored_links_and_cliques(app)
    Scan(app, "toy", only="links").run()
    Scan(app, "toy", only="cliques").run()
    assert reads == [("find", {"type": "vnic"}), ("find_links", None), ("find", {"type": "host"})]
    assert _stored_links_and_cliques(app) == held and len(held[0]) == 18 and len(held[1]) == 6

    reads.clear()
    cloud.unreachable.add("node-3")  # its vNICs are kept, not walked: the stored objects are read
    assert Scan(app, "toy").run().status == "completed_with_errors"
    assert reads == [("find", {"type": "vnic"}), ("find", {"type": "host"})]  # the links it stored: in hand
    assert _stored_links_and_cliques(app) == held


def test_a_rescan_writes_only_the_objects_that_changed(toy, monkeypatch):
    app, cloud = toy
    Scan(app, "toy").run()
    written, upsert = [], app.inventory.upsert_objects

    def recording(environment, docs, conn=None):
        written.extend(doc["id"] for doc in docs)
        return upsert(environment, docs, conn)

    monkeypatch.setattr(app.inventory, "upsert_objects", recording)
    cloud.hosts["node-1"][0] = "node-1-tapX"  # one vNIC replaced
    with app.engine.begin() as conn:  # and one object changed by another writer, without a digest
        conn.exec_driver_sql("UPDATE inventory SET status = 'error' WHERE id = 'node-4-tap2'")
    summary = Scan(app, "toy").run()
    assert sorted(written) == ["node-1-tapX", "node-4-tap2"] and summary.removed == 1
    assert summary.objects == {"hosts_folder": 1, "host": 6, "vnics_folder": 6, "vnic": 18}
    with app.engine.connect() as conn:
        scanned = conn.exec_driver_sql("SELECT DISTINCT last_scanned FROM inventory").scalars().all()
        started = conn.exec_driver_sql("SELECT start_timestamp FROM scans WHERE id = %(id)s",
                                       {"id": summary.scan_id}).scalar_one()
    assert scanned == [started]  # every object found is marked as seen
    assert app.inventory.get("toy", "node-4-tap2")["status"] == "error"  # kept, as a whole write keeps it
    written.clear()
    Scan(app, "toy").run()
    assert written == []


def test_a_rescan_writes_only_the_links_and_cliques_that_changed(toy, monkeypatch):
    app, cloud = toy
    Scan(app, "toy").run()
    links_written, cliques_written = [], []
    upsert_links, copy_rows = app.inventory.upsert_links, controller.copy_rows

    def recording_links(environment, docs, conn=None):
        links_written.extend((d["source_id"], d["target_id"]) for d in docs)
        return upsert_links(environment, docs, conn)

    def recording_cliques(conn, table, rows):
        cliques_written.extend(row["focal_point"] for row in rows)
        return copy_rows(conn, table, rows)

    monkeypatch.setattr(app.inventory, "upsert_links", recording_links)
    monkeypatch.setattr(controller, "copy_rows", recording_cliques)
    cloud.hosts["node-1"][0] = "node-1-tapX"  # one vNIC replaced
    with app.engine.begin() as conn:  # and one link changed by another writer, without a digest
        conn.exec_driver_sql("UPDATE links SET link_name = 'renamed' WHERE target_id = 'node-4-tap2'")
    summary = Scan(app, "toy").run()
    assert sorted(links_written) == [("node-1", "node-1-tapX"), ("node-4", "node-4-tap2")]
    assert cliques_written == ["node-1"] and summary.cliques == 6
    links = app.inventory.find_links("toy")
    assert {(link["target_id"], link["link_name"]) for link in links if link["source_id"] in ("node-1", "node-4")} == {
        ("node-1-tapX", "tapX"), ("node-1-tap1", "tap1"), ("node-1-tap2", "tap2"),
        ("node-4-tap0", "tap0"), ("node-4-tap1", "tap1"), ("node-4-tap2", "tap2")}
    node_1 = next(row for row in _stored_links_and_cliques(app)[1] if row.focal_point == "node-1")
    assert node_1.nodes == ["node-1", "node-1-tap1", "node-1-tap2", "node-1-tapX"]
    assert sorted(node_1.doc["links"]) == sorted(link["id"] for link in links if link["source_id"] == "node-1")

    links_written.clear(), cliques_written.clear()
    held = _stored_links_and_cliques(app)
    Scan(app, "toy").run()
    assert links_written == [] and cliques_written == [] and _stored_links_and_cliques(app) == held
    cloud.links_fail = True  # the links of a finder that failed are kept
    assert Scan(app, "toy").run().status == "completed_with_errors"
    assert _stored_links_and_cliques(app) == held


def test_a_rescan_deletes_the_cliques_no_longer_found_whoever_wrote_them(toy):
    """A clique the listener wrote has no digest: it goes too when its focal point does."""
    app, cloud = toy
    Scan(app, "toy").run()
    with app.engine.begin() as conn:  # as the listener rewrites a clique: without a digest
        conn.exec_driver_sql("UPDATE cliques SET nodes = '{node-5}' WHERE focal_point = 'node-5'")
    del cloud.hosts["node-5"]
    assert Scan(app, "toy").run().cliques == 5
    assert sorted(row.focal_point for row in _stored_links_and_cliques(app)[1]) == [f"node-{h}" for h in range(5)]


def test_rescanning_one_object_touches_only_its_subtree(toy):
    app, cloud = toy
    Scan(app, "toy").run()
    cloud.hosts["node-0"].append("node-0-tap9")
    cloud.hosts["node-4"].append("node-4-tap9")
    summary = Scan(app, "toy", object_id="node-0", only="inventory").run()
    assert summary.objects == {"vnics_folder": 1, "vnic": 4}
    assert app.inventory.get("toy", "node-0-tap9") is not None
    assert app.inventory.get("toy", "node-4-tap9") is None


def _analyses(app) -> dict[str, int]:
    """How many times each table the scan writes was analyzed by hand (not by autovacuum)."""
    with app.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT relname, analyze_count FROM pg_stat_user_tables "
                                         "WHERE relname IN ('inventory', 'links', 'cliques')").all())


def test_a_whole_scan_refreshes_the_planners_statistics_of_what_it_wrote(toy):
    app, cloud = toy
    before = _analyses(app)
    Scan(app, "toy").run()
    after = _analyses(app)
    assert {table: after[table] - before[table] for table in after} == {"inventory": 1, "links": 1, "cliques": 1}
    Scan(app, "toy").run()  # nothing changed: the statistics still hold
    assert _analyses(app) == after
    for host in ("node-1", "node-2"):  # a third of the objects, links and cliques changes
        cloud.hosts[host] = [f"{host}-new{v}" for v in range(3)]
    Scan(app, "toy", only="inventory").run()
    Scan(app, "toy", only="links").run()
    assert {table: count - after[table] for table, count in _analyses(app).items()} == {
        "inventory": 1, "links": 1, "cliques": 0}
    after = _analyses(app)
    Scan(app, "toy", object_id="node-0", only="inventory").run()  # a few rows: autovacuum's business
    assert _analyses(app) == after


def test_fetches_run_concurrently_within_the_bound(toy):
    app, cloud = toy
    cloud.delay = 0.05
    Scan(app, "toy", concurrency=4, only="inventory").run()
    assert cloud.most_running == 4
    cloud.most_running = 0
    Scan(app, "toy", concurrency=1, only="inventory").run()
    assert cloud.most_running == 1


class BadScanners:
    @hookimpl
    def calipso_scanners(self):
        return [
            Scanner("bad.a", (FetchType("thing", fetcher="bad.nofetcher", children_scanner="bad.b"),),),
            Scanner("bad.b", (FetchType("other", folder=Folder("others"), children_scanner="bad.a"),
                              FetchType("x", folder=Folder("xs"), children_scanner="bad.missing"))),
        ]


def test_the_scanner_tree_is_checked_at_load():
    plugins = get_plugin_manager(load_entry_points=False)
    plugins.register_plugin(BadScanners(), PluginInfo("bad", "calipso-test-bad", "0", "tests"))
    with pytest.raises(ConfigError) as caught:
        ScannerTree.from_plugins(plugins)
    assert caught.value.errors == [
        "bad.a[0] (thing): unknown fetcher 'bad.nofetcher'",
        "bad.b[1] (x): unknown children scanner 'bad.missing'",
        "cycle: bad.a -> bad.b -> bad.a",
    ]


class ExtendsMissing:
    @hookimpl
    def calipso_scanners(self):
        things = FetchType("thing", folder=Folder("things"), children_scanner="extra.things")
        return [Scanner("extra.children", (things,), extends="nobody.scanner"),
                Scanner("extra.things", (FetchType("item", fetcher="extra.items", children_scanner="nobody.items"),))]


def test_an_extension_of_a_scanner_not_installed_is_left_out():
    plugins = get_plugin_manager(load_entry_points=False)
    plugins.register_plugin(ExtendsMissing(), PluginInfo("extra", "calipso-test-extra", "0", "tests"))
    tree = ScannerTree.from_plugins(plugins)
    assert "nobody.scanner" not in tree.scanners
    assert all(ft.type != "thing" for entries in tree.scanners.values() for ft in entries)
    # what hangs only under it is left out too, unknown fetcher and children scanner with it
    assert "extra.things" not in tree.scanners


def test_the_garbage_collector_waits_while_scan_phases_run_and_comes_back():
    assert gc.isenabled()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_the_garbage_collector_waits_for_the_whole_scan(toy, monkeypatch):
    """Storing tens of thousands of documents and building the cliques allocate as much as
    the walk: a collection then would walk them all again; so would the first collection
    after the scan if what it read were still held."""
    collecting = []
    close = ScanContext.close
    monkeypatch.setattr(ScanContext, "close", lambda ctx: (collecting.append(("close", gc.isenabled())), close(ctx)))
    summary = Scan(toy[0], "toy", progress=lambda phase, done, total: collecting.append((phase, gc.isenabled()))).run()
    assert summary.status == "completed"
    assert [phase for phase, _ in collecting][-2:] == ["cliques", "close"]
    assert {phase for phase, _ in collecting} == {"inventory", "links", "cliques", "close"}
    assert not any(enabled for _, enabled in collecting) and gc.isenabled()


class _Doc(dict):
    """A document that can be watched with a weak reference."""


def test_what_a_walk_or_a_rescan_read_is_freed_without_the_cyclic_collector():
    """Scans and batches of events run with the collector paused (and it costs a walk of
    everything alive when it runs): what they read must go when it is dropped."""
    gc.collect()
    with collector_paused():
        doc = _Doc(id="a", type="vnic", name="a", parent_id="h1")
        objects, gone = {"a": doc}, weakref.ref(doc)
        assign_paths(objects, {"h1": {"id": "h1", "id_path": "/env/h1", "name_path": "/env/h1"}}.get)
        assert doc["id_path"] == "/env/h1/a"
        del doc, objects
        assert gone() is None

        live = LiveSources({"name": "env", "configuration": []}, inventory=None)
        scoped = live.scope()
        scoped.from_parent(("networks", "r1"), lambda: ["net-1"])
        scoped.seed(("ports", "r1"), lambda: ["port-1"])
        assert scoped.cached(("networks", "r1"), list) == ["net-1"]
        gone = weakref.ref(scoped.cached(("hoststate", "h1"), lambda: _Doc(host="h1")))
        assert gone() == {"host": "h1"}
        del scoped
        assert gone() is None
        assert live.keep(("networks", "r1"), list) == ["net-1"]  # kept by the parent, as asked


class _PluginsLeavingACycle(Calipso):
    """Plugins whose loading leaves a garbage cycle that holds the frame it ran in and its
    callers' (netaddr's import leaves its own exceptions so)."""

    @cached_property
    def plugins(self):
        try:
            raise LookupError("left in a cycle")
        except LookupError as error:
            error.itself = error  # the error -> its traceback -> this frame -> the callers'
        return self.loaded


def test_what_a_scan_found_is_freed_when_it_ends_whatever_the_plugins_left(toy, monkeypatch):
    app, _ = toy
    walks = []

    class WatchedScan(controller.InventoryScan):
        def run(self, *args):
            result = super().run(*args)
            walks.append(weakref.ref(result))
            return result

    monkeypatch.setattr(controller, "InventoryScan", WatchedScan)
    fresh = _PluginsLeavingACycle(app._database_url)
    fresh.engine, fresh.loaded = app.engine, app.plugins
    gc.collect()
    gc.disable()
    try:
        assert Scan(fresh, "toy").run().status == "completed"
        assert len(walks) == 1 and walks[0]() is None
    finally:
        gc.enable()


def test_forgetting_the_walks_data_keeps_the_working_clients():
    def unreachable(ctx):
        raise HostUnreachable("h1", "down")

    ctx = ScanContext({"name": "env", "configuration": []}, inventory=None)
    client = ctx.client("api", lambda c: object())
    assert ctx.cached("ports", lambda: [1, 2]) == [1, 2]
    with pytest.raises(HostUnreachable):
        ctx.client("ssh", unreachable)
    ctx.forget_data()
    assert ctx.client("api", lambda c: object()) is client
    assert ctx.cached("ports", lambda: [3]) == [3]  # read again
    assert ctx.client("ssh", lambda c: "connected") == "connected"  # a failed client is tried again


def test_a_database_failure_in_a_link_finder_is_not_taken_for_the_finders():
    """A finder that fails is recorded and skipped; the database failing under it is the
    caller's to handle (its transaction is gone), so it goes through."""
    def broken(_ctx):
        raise ValueError("no such column")

    def database_gone(_ctx):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    result = find_links(None, [LinkFinder("toy.broken", ("a-b",), broken)])
    assert result.failures == [("toy.broken", "ValueError: no such column")]
    with pytest.raises(OperationalError):
        find_links(None, [LinkFinder("toy.gone", ("a-b",), database_gone)])
