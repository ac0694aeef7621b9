"""The listener on a real RabbitMQ and PostgreSQL, with a test plugin's handlers: changes
applied in batches with only the touched links and cliques recomputed, bad notifications
recorded, database outages retried, acknowledgement after the commit, reconciliation,
and the manager that supervises one listener process per environment."""

from __future__ import annotations

import gc
import logging
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import replace

import pytest
from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from calipso_core import hookimpl
from calipso_core.cli.listen_cmd import _not_delivered_while_closing
from calipso_core.context import Calipso
from calipso_core.events import EventError
from calipso_core.events.context import EventContext
from calipso_core.events.memory import EventMemory
from calipso_core.events.reconcile import reconcile
from calipso_core.events.rescan import rescan_subtree
from calipso_core.listener import EXIT_START_AGAIN, EnvironmentListener, ListenOptions, declare_queues, listen
from calipso_core.manager import ListenerManager, ManagerOptions
from calipso_core.messaging import NotificationPublisher, RetryLater, bus_settings, pool_name
from calipso_core.plugins import PluginInfo, get_plugin_manager
from calipso_core.scan.controller import Scan, rebuild_cliques
from calipso_core.seed import seed_defaults
from calipso_core.store.tables import cliques, messages
from calipso_core.testing import wait_until
from calipso_core.types import CliqueType, EventHandler, Fetcher, FetchType, Folder, LinkFinder, Scanner

pytestmark = pytest.mark.timeout(180)
FAST = ListenOptions(batch_size=20, batch_timeout=0.1, versioned=False)


class ToyCloud:
    """Hosts with vNICs, and handlers for the notifications a toy cloud would send."""

    def __init__(self):
        self.hosts = {f"node-{h}": [f"node-{h}-tap{v}" for v in range(2)] for h in range(4)}
        self.failures: dict[str, int] = {}  # event type -> failures still to come
        self.gate = threading.Event()
        self.gate.set()
        self.collecting: list[bool] = []  # whether the garbage collector was on, per event handled

    def fetch_hosts(self, ctx, parent):
        return [{"id": name, "name": name, "host": name} for name in self.hosts]

    def fetch_vnics(self, ctx, parent):
        return [{"id": v, "name": v.rsplit("-", 1)[1]} for v in self.hosts[parent["host"]]]

    # -- handlers ----------------------------------------------------------------------

    def vnics_changed(self, ev, note):
        host = note.payload.get("host")
        if not isinstance(host, str):
            raise EventError("host is missing", related_object=note.payload.get("id"))
        self._maybe_fail(note.event_type)
        self.collecting.append(gc.isenabled())
        self.gate.wait(30)
        ev.later(("host", host), lambda ctx: self.refresh(ctx, host))

    def refresh(self, ev, host):
        rescan_subtree(ev, ev.get(host), "toy.host", ev.sources.scope())
        ev.relink(host)

    def broken(self, ev, note):
        raise RuntimeError("the toy handler is broken")

    def _maybe_fail(self, event_type):
        if self.failures.get(event_type, 0) > 0:
            self.failures[event_type] -= 1
            if event_type.endswith("db"):
                raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
            raise RetryLater("not there yet")

    @hookimpl
    def calipso_fetchers(self):
        return [Fetcher("toy.hosts", self.fetch_hosts), Fetcher("toy.vnics", self.fetch_vnics, source="cli")]

    @hookimpl
    def calipso_scanners(self):
        return [
            Scanner("toy.root", (FetchType("hosts_folder", folder=Folder("hosts", "Hosts"),
                                           children_scanner="toy.hosts"),), extends="environment"),
            Scanner("toy.hosts", (FetchType("host", fetcher="toy.hosts", children_scanner="toy.host"),)),
            Scanner("toy.host", (FetchType("vnic", fetcher="toy.vnics"),)),
        ]

    @hookimpl
    def calipso_link_finders(self):
        def host_vnic(ctx):
            return [{"link_type": "host-vnic", "source_id": v["host"], "target_id": v["id"], "link_name": v["name"],
                     "host": v["host"]} for v in ctx.objects("vnic")]

        return [LinkFinder("toy.host-vnic", ("host-vnic",), host_vnic)]

    @hookimpl
    def calipso_clique_types(self):
        return [CliqueType("host", "host", ("host-vnic",))]

    @hookimpl
    def calipso_event_handlers(self):
        return [EventHandler("toy.vnics", ("toy.vnics", "toy.vnics.retry", "toy.vnics.db"), self.vnics_changed),
                EventHandler("toy.broken", ("toy.broken",), self.broken)]


@pytest.fixture
def toy(calipso, calipso_database_url, rabbitmq):
    """A scanned toy environment that listens on the test broker, and a publisher."""
    cloud = ToyCloud()
    plugins = get_plugin_manager(load_entry_points=False)
    plugins.register_plugin(cloud, PluginInfo("toy", "calipso-test-toy", "0", "tests"))
    app = Calipso(calipso_database_url, plugins=plugins)
    app.engine = calipso.engine
    seed_defaults(app.engine, plugins)
    name = f"toy-{uuid.uuid4().hex[:8]}"  # a pool of its own on the shared broker
    app.environments.save({"name": name, "distribution": "Calipso-lab", "listen": True,
                           "configuration": [rabbitmq.amqp_section()]})
    assert Scan(app, name).run().status == "completed"
    with NotificationPublisher(bus_settings(rabbitmq.amqp_section()), "nova") as publisher:
        yield app, cloud, name, publisher


def publish(publisher, event_type: str, payload) -> None:
    publisher.send("toy.controller", event_type, "INFO", payload)


def stored_cliques(app, env: str) -> dict[str, dict]:
    with app.engine.connect() as conn:
        return {row.focal_point: {"doc": {**row.doc, "nodes": row.nodes, "constraints": row.constraints},
                                  "at": row.last_scanned}
                for row in conn.execute(select(cliques).where(cliques.c.environment == env))}


def records(app, env: str) -> list:
    with app.engine.connect() as conn:
        return list(conn.execute(select(messages).where(messages.c.environment == env).order_by(messages.c.id)))


def test_a_change_sent_during_a_scan_waits_and_touches_only_its_host(toy, rabbitmq):
    app, cloud, env, publisher = toy
    assert pool_name(env) in rabbitmq.queues()  # the scan declared it before anything listened
    before = stored_cliques(app, env)
    cloud.hosts["node-1"].append("node-1-tap7")
    publish(publisher, "toy.vnics", {"host": "node-1"})
    with EnvironmentListener(app, env, FAST) as listener:
        assert wait_until(lambda: app.inventory.get(env, "node-1-tap7") is not None)
        assert wait_until(lambda: listener.processor.stats["batches"] >= 1)
    after = stored_cliques(app, env)
    assert after["node-1"]["doc"]["nodes"] == ["node-1", "node-1-tap0", "node-1-tap1", "node-1-tap7"]
    assert {h for h in after if after[h]["at"] != before[h]["at"]} == {"node-1"}  # the others were not rewritten
    rebuild_cliques(app.engine, app.inventory, app.environments.get(env),
                    lambda t: app.inventory.find(env, {"type": t}))
    assert {k: v["doc"] for k, v in stored_cliques(app, env).items()} == {k: v["doc"] for k, v in after.items()}


def test_the_garbage_collector_waits_while_a_batch_is_applied(toy):
    app, cloud, env, publisher = toy
    publish(publisher, "toy.vnics", {"host": "node-2"})
    with EnvironmentListener(app, env, FAST) as listener:
        assert wait_until(lambda: listener.processor.stats["batches"] >= 1)
    assert cloud.collecting == [False] and gc.isenabled()


def test_bad_notifications_become_messages_and_the_listener_goes_on(toy):
    app, cloud, env, publisher = toy
    publish(publisher, "toy.unknown", {"host": "node-0"})
    publish(publisher, "toy.broken", {"host": "node-0"})
    publish(publisher, "toy.vnics", {"id": "vnic-9"})  # no host
    publish(publisher, "toy.vnics", "not an object")
    publish(publisher, "toy.vnics", {"host": "node-\x00"})
    cloud.hosts["node-2"].append("node-2-tap5")
    publish(publisher, "toy.vnics", {"host": "node-2"})
    with EnvironmentListener(app, env, FAST) as listener:
        assert wait_until(lambda: app.inventory.get(env, "node-2-tap5") is not None)
        assert wait_until(lambda: len(records(app, env)) >= 5)
        assert listener.processor.stats["rejected"] == 4  # the NUL one fails later, in its host's rescan
    found = {(r.event_type, r.level): r for r in records(app, env)}
    [late] = [r for r in records(app, env) if r.doc["reason"] == "deferred step failed"]
    assert "NUL" in late.doc["message"] and "\x00" not in late.doc["message"]
    assert found[("toy.unknown", "warn")].doc["payload"] == {"host": "node-0"}
    assert "RuntimeError: the toy handler is broken" in found[("toy.broken", "error")].doc["reason"]
    assert found[("toy.vnics", "error")].related_object in ("vnic-9", None)
    reasons = sorted(r.doc["reason"] for r in records(app, env) if r.event_type == "toy.vnics")
    assert reasons[0] == "host is missing" and "not an object" in reasons[1]


def test_a_database_outage_is_retried_not_dropped(toy):
    app, cloud, env, publisher = toy
    cloud.failures["toy.vnics.db"] = 2
    cloud.hosts["node-3"].append("node-3-tap4")
    publish(publisher, "toy.vnics.db", {"host": "node-3"})
    with EnvironmentListener(app, env, FAST) as listener:
        assert wait_until(lambda: app.inventory.get(env, "node-3-tap4") is not None)
        assert listener.processor.stats["retried_batches"] == 2
    assert records(app, env) == []


def test_a_handler_that_keeps_asking_for_a_retry_is_given_up_with_a_message(toy):
    app, cloud, env, publisher = toy
    cloud.failures["toy.vnics.retry"] = 100
    publish(publisher, "toy.vnics.retry", {"host": "node-0"})
    with EnvironmentListener(app, env, FAST) as listener:
        listener.processor.retries = 2
        assert wait_until(lambda: len(records(app, env)) == 1, timeout=60)
    [message] = records(app, env)
    assert message.event_type == "toy.vnics.retry" and "not there yet" in message.doc["reason"]
    assert cloud.failures["toy.vnics.retry"] == 100 - 4  # 3 rounds, and the careful run that gave up


def test_the_acknowledgement_comes_after_the_commit(toy, rabbitmq):
    app, cloud, env, publisher = toy
    cloud.gate.clear()
    cloud.hosts["node-0"].append("node-0-tap3")
    publish(publisher, "toy.vnics", {"host": "node-0"})
    queue = pool_name(env)
    with EnvironmentListener(app, env, FAST):
        assert wait_until(lambda: rabbitmq.queues()[queue]["messages_unacknowledged"] == 1)
        assert app.inventory.get(env, "node-0-tap3") is None  # being handled, not committed, not acked
        cloud.gate.set()
        assert wait_until(lambda: app.inventory.get(env, "node-0-tap3") is not None)
        assert wait_until(lambda: rabbitmq.queues()[queue]["messages_unacknowledged"] == 0)
    assert rabbitmq.queues()[queue]["messages_ready"] == 0


def test_reconciliation_reports_what_it_repaired(toy):
    app, cloud, env, _ = toy
    cloud.hosts["node-0"].append("node-0-tap8")  # changes nobody announced
    del cloud.hosts["node-3"]
    repair = reconcile(app, env)
    assert repair.added[("objects", "vnic")] == ["node-0-tap8"]
    assert repair.removed[("objects", "host")] == ["node-3"]
    assert repair.removed[("cliques", "host")] == ["node-3"]
    texts = [r.doc["message"] for r in records(app, env)]
    assert "reconciliation added 1 objects of type vnic: node-0-tap8" in texts
    assert any(t.startswith(f"reconciliation scan {repair.scan_id} (completed):") for t in texts)
    again = reconcile(app, env)
    assert again.total == 0
    assert records(app, env)[-1].doc["message"].endswith("nothing to repair")


REPORT = re.compile(r"(\d+) notifications applied in (\d+) batches in the last [\d.]+ s \((\d+) rejected, "
                    r"(\d+) stale\); publish→commit p50 ([\d.]+) s, p99 ([\d.]+) s; (\d+) MB in memory")


def test_a_listener_says_now_and_then_what_it_applied(toy, caplog):
    app, cloud, env, publisher = toy
    cloud.hosts["node-1"].append("node-1-tap6")
    for host in ("node-1", "node-1", "node-0"):
        publish(publisher, "toy.vnics", {"host": host})
    publish(publisher, "toy.unknown", {"host": "node-0"})
    caplog.set_level(logging.INFO, logger="calipso_core.listener")
    stop = threading.Event()
    runner = threading.Thread(target=listen, args=(app, env, stop, replace(FAST, report_every=0.2)))
    runner.start()
    try:
        assert wait_until(lambda: sum(int(m[0]) for m in reports(caplog)) == 4)
        time.sleep(0.6)  # quiet: nothing more to say
    finally:
        stop.set()
        runner.join(30)
    found = reports(caplog)
    assert sum(int(m[0]) for m in found) == 4 and sum(int(m[2]) for m in found) == 1
    assert all(0 < float(m[4]) <= float(m[5]) < 60 for m in found)
    assert all(50 < int(m[6]) < 4000 for m in found)  # this process's resident memory
    assert app.inventory.get(env, "node-1-tap6") is not None


def reports(caplog) -> list[tuple[str, ...]]:
    return [m.groups() for r in caplog.records if (m := REPORT.search(r.getMessage()))]


def test_a_listener_stops_after_its_most_notifications_once_they_are_committed(toy, rabbitmq):
    app, cloud, env, publisher = toy
    queue = pool_name(env)
    cloud.gate.clear()  # the first batch waits until everything is sent
    cloud.hosts["node-2"].append("node-2-tap7")
    for host in ("node-0", "node-1", "node-2"):
        publish(publisher, "toy.vnics", {"host": host})
    stop, stats = threading.Event(), {}
    runner = threading.Thread(target=lambda: stats.update(listen(app, env, stop, replace(FAST, max_notifications=2))))
    runner.start()
    try:
        assert wait_until(lambda: len(cloud.collecting) >= 1)
        for host in ("node-3", "node-0"):
            publish(publisher, "toy.vnics", {"host": host})
        cloud.gate.set()
        runner.join(30)
        assert not runner.is_alive()  # it stopped by itself
    finally:
        stop.set()
        runner.join(30)
    assert 2 <= stats["notifications"] <= 5
    assert app.inventory.get(env, "node-2-tap7") is not None
    assert wait_until(lambda: unsettled(rabbitmq, queue) == 5 - stats["notifications"])  # the rest wait


def test_a_stopping_listener_does_not_log_each_message_it_had_prefetched():
    def record(text: str, *args) -> logging.LogRecord:
        return logging.LogRecord("amqp", logging.WARNING, "amqp", 1, text, args, None)

    assert not _not_delivered_while_closing(record(IGNORED_METHOD_DURING_CHANNEL_CLOSE, (60, 60), 1))
    assert _not_delivered_while_closing(record("Socket closed"))


def unsettled(rabbitmq, queue: str) -> int:
    counts = rabbitmq.queues()[queue]
    return counts["messages_ready"] + counts["messages_unacknowledged"]


def test_declaring_queues_needs_an_environment_that_listens(rabbitmq):
    assert declare_queues({"name": "quiet", "listen": False, "configuration": [rabbitmq.amqp_section()]}) == []
    assert declare_queues({"name": "no-bus", "listen": True, "configuration": []}) == []
    name = f"loud-{uuid.uuid4().hex[:6]}"
    queues = declare_queues({"name": name, "listen": True, "configuration": [rabbitmq.amqp_section()]})
    assert queues == [pool_name(name), pool_name(name, "versioned_notifications")]
    assert set(queues) <= set(rabbitmq.queues())


def test_the_manager_runs_restarts_and_stops_one_listener_per_environment(toy, rabbitmq, calipso_database_url,
                                                                          tmp_path):
    app, cloud, env, _ = toy
    app.environments.save({"name": f"{env}-new", "listen": True, "configuration": [rabbitmq.amqp_section()]})
    options = ManagerOptions(interval=0.1, first_backoff=0.2, stop_timeout=20, log_dir=tmp_path,
                             child_env={"CALIPSO_DATABASE_URL": calipso_database_url})
    manager = ListenerManager(app, options)
    queue = pool_name(env)
    try:
        manager.step()
        assert set(manager.children) == {env}  # the one not scanned yet has none
        assert app.environments.get(env)["operational"] == "running"
        assert wait_until(lambda: rabbitmq.queues()[queue]["consumers"] >= 1, timeout=60)
        first = manager.children[env].process.pid
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: manager.children[env].process.poll() is not None)
        manager.step()
        assert app.environments.get(env)["operational"] == "error"
        assert wait_until(lambda: (manager.step(), manager.children[env].alive)[1], timeout=10)
        assert manager.children[env].process.pid != first
        assert app.environments.get(env)["operational"] == "running"
        assert wait_until(lambda: rabbitmq.queues()[queue]["consumers"] >= 1, timeout=60)
        app.environments.update(env, listen=False)
        manager.step()
        assert env not in manager.children
        assert app.environments.get(env)["operational"] == "stopped"
        assert rabbitmq.queues()[queue]["consumers"] == 0
    finally:
        manager.stop_all()


def test_the_manager_starts_a_listener_that_applied_its_most_notifications_again_at_once(
        toy, calipso_database_url, tmp_path):
    app, _, env, publisher = toy
    for n in range(3):
        publish(publisher, "toy.unknown", {"n": n})  # each becomes a message
    options = ManagerOptions(interval=0.1, first_backoff=60, stop_timeout=20, log_dir=tmp_path,
                             listener_max_notifications=2, child_env={"CALIPSO_DATABASE_URL": calipso_database_url})
    manager = ListenerManager(app, options)
    try:
        manager.step()
        child = manager.children[env]
        first = child.process
        assert wait_until(lambda: first.poll() is not None, timeout=60)
        manager.step()
        assert first.returncode == EXIT_START_AGAIN and child.exit_codes == [EXIT_START_AGAIN]
        assert child.alive and child.deaths == 0 and app.environments.get(env)["operational"] == "running"
        assert wait_until(lambda: len(records(app, env)) == 3, timeout=60)
    finally:
        manager.stop_all()
    assert "stopped after --max-notifications 2" in (tmp_path / f"listen-{env}.log").read_text()


def test_a_rename_moves_the_name_paths_below_it_whoever_else_moves(calipso):
    """Objects written in a batch get their paths from their parents; those below them that
    are not written follow their nearest renamed ancestor (a network renamed with its ports
    folder and ports rewritten, a folder renamed inside a renamed parent)."""
    env = "names"
    chain = ["top", "a", "d", "e", "f"]
    docs, parent = [], {"id": env, "id_path": f"/{env}", "name_path": f"/{env}"}
    for oid in chain:
        doc = {"id": oid, "type": "folder", "name": oid.upper(), "parent_id": parent["id"],
               "id_path": f"{parent['id_path']}/{oid}", "name_path": f"{parent['name_path']}/{oid.upper()}"}
        docs.append(doc)
        parent = doc
    calipso.inventory.upsert_objects(env, docs)
    stored = {d["id"]: d for d in docs}
    with calipso.engine.begin() as conn:
        ev = EventContext(calipso, {"name": env}, conn, None, None, EventMemory())
        # "a" renamed, "d" renamed too, "e" rewritten with other content, "f" not written.
        ev.save_documents([{**stored["a"], "name": "A2"}, {**stored["d"], "name": "D2"},
                           {**stored["e"], "description": "changed"}])
    paths = {d["id"]: d["name_path"] for d in calipso.inventory.find(env)}
    assert paths == {"top": "/names/TOP", "a": "/names/TOP/A2", "d": "/names/TOP/A2/D2", "e": "/names/TOP/A2/D2/E",
                     "f": "/names/TOP/A2/D2/E/F"}
