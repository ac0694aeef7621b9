"""The OpenStack handlers: what they read from recorded Nova and Neutron notifications, and
what they do with bad, stale and unknown ones on a running lab."""

from __future__ import annotations

import json
import random
import time

import pytest
from sqlalchemy import select
from test_live_inventory import caught_up, differences, live_lab, notifier_of  # noqa: F401 - fixture

from calipso_core.events import EventError
from calipso_core.messaging import NotificationPublisher, bus_settings
from calipso_core.store.tables import messages
from calipso_plugins_openstack.events import payloads
from calipso_plugins_openstack.events.handlers import EVENT_HANDLERS

pytestmark = pytest.mark.timeout(600)


# -- reading recorded notifications --------------------------------------------------------------


@pytest.mark.parametrize(("name", "state", "old_state"), [
    ("compute_instance_update_instance_add", "active", "building"),
    ("compute_instance_update_instance_delete", "deleted", "active"),
    ("compute_instance_update_instance_update", "active", "active"),
])
def test_legacy_instance_updates_are_read(recorded_notification, name, state, old_state):
    note = recorded_notification(name)
    instance = payloads.instance_note(note["payload"])
    assert instance.id == note["payload"]["instance_id"] and instance.host == note["payload"]["host"]
    assert (instance.state, instance.old_state) == (state, old_state)
    assert instance.name == note["payload"]["display_name"]


@pytest.mark.parametrize("name", ["instance-create-end", "instance-delete-end", "instance-power_off-end",
                                  "instance-update"])
def test_versioned_instance_notifications_are_read(versioned_notification, name):
    note = versioned_notification(name)
    data = note["payload"]["nova_object.data"]
    instance = payloads.instance_note(note["payload"])
    assert (instance.id, instance.host, instance.name, instance.state) == (
        data["uuid"], data["host"], data["display_name"], data["state"])
    if name == "instance-update":
        assert instance.old_state == "building"


def test_every_handled_event_type_of_the_recordings_has_a_handler(versioned_notification, shared_fixtures):
    handled = {t for h in EVENT_HANDLERS for t in h.event_types}
    recorded = [json.loads(p.read_text()) for p in sorted((shared_fixtures / "upstream" / "notifications").glob(
        "*.json")) if "event_type" in p.read_text()[:4000]]
    recorded += [versioned_notification(n) for n in ("instance-create-end", "instance-delete-end",
                                                     "instance-power_off-end", "instance-update")]
    types = {n["event_type"] for n in recorded if isinstance(n, dict) and "event_type" in n}
    assert types and types <= handled, types - handled


@pytest.mark.parametrize(("name", "kind", "expected_id"), [
    ("network_create_end", "network", "a8226605-40d0-4111-93bd-11ffa5b2d1d7"),
    ("port_create_end", "port", "1233445-75b6-4c05-9480-4bc648845c6f"),
    ("port_update_end", "port", "16620a58-c48c-4195-b9c1-779a8ba2e6f8"),
    ("router_create_end", "router", "c485d5f4-dfec-430f-8ad8-409c7034b46d"),
    ("subnet_create_end", "subnet", "e950055d-231c-4380-983c-a258ea958d58"),
])
def test_neutron_bodies_are_read(recorded_notification, name, kind, expected_id):
    payload = recorded_notification(name)["payload"]
    reader = {"network": payloads.network_body, "port": payloads.port_body}.get(kind)
    body = reader(payload) if reader else payloads.resource(payload, kind)
    assert body["id"] == expected_id


@pytest.mark.parametrize(("name", "kind", "expected_id"), [
    ("port_delete_start", "port", "2233445-55b6-4c05-9480-4bc648845c6f"),
    ("network_delete_end", "network", "0bb0ba6c-6863-4121-ac89-93f81a9da2b0"),
])
def test_deleted_ids_are_read(recorded_notification, name, kind, expected_id):
    assert payloads.deleted_id(recorded_notification(name)["payload"], kind) == expected_id


def test_router_interfaces_and_publishers_are_read(recorded_notification):
    interface = payloads.router_interface(recorded_notification("router_interface_create")["payload"])
    assert (interface["id"], interface["port_id"]) == ("c57216ca-c1c4-430d-a045-32851ca879e3",
                                                       "1233445-75b6-4c05-9480-4bc648845c6f")
    assert payloads.publisher_host(recorded_notification("router_create_end")["publisher_id"]) == "node-250.cisco.com"
    assert payloads.publisher_host("nova-compute:compute") == "compute"
    assert payloads.publisher_host("garbage") is None


@pytest.mark.parametrize(("payload", "reason"), [
    ({"instance_id": 7}, "instance instance_id is not a non-empty string (int)"),
    ({"display_name": "x"}, "instance instance_id is missing"),
    ({"nova_object.data": "text"}, "payload nova_object.data is a str, not an object"),
    ({"nova_object.data": {"uuid": "u", "host": ["h"]}}, "instance host is a list, not a string"),
])
def test_bad_instance_payloads_say_what_is_wrong(payload, reason):
    with pytest.raises(EventError, match="^" + reason.replace("(", r"\(").replace(")", r"\)") + "$"):
        payloads.instance_note(payload)


# -- on a running lab ------------------------------------------------------------------------------

BAD = [  # (event type, payload): 20 kinds of notifications the listener must survive
    ("compute.instance.teleport.end", {"instance_id": "x"}),                        # unknown event type
    ("compute.instance.create.end", "a string"),                                   # payload not an object
    ("compute.instance.create.end", ["a", "list"]),
    ("compute.instance.create.end", None),
    ("compute.instance.create.end", {"display_name": "no id"}),                    # missing field
    ("compute.instance.create.end", {"instance_id": 42, "host": "x"}),             # wrong type
    ("compute.instance.create.end", {"instance_id": "i-1"}),                       # no host to rescan
    ("instance.create.end", {"nova_object.data": "not an object"}),
    ("instance.update", {"nova_object.data": {"display_name": "no uuid"}}),
    ("port.create.end", {}),                                                       # no body
    ("port.create.end", {"port": {"name": "no id"}}),
    ("port.create.end", {"port": {"id": "p-1", "network_id": 5}}),
    ("port.update.end", {"port": {"id": "p-2", "network_id": "n", "fixed_ips": "10.0.0.1"}}),
    ("network.create.end", {"network": {"id": "n-1", "subnets": "s-1", "project_id": "p"}}),
    ("network.update.end", {"network": {"id": "n-2", "name": ["x"], "project_id": "p"}}),
    ("network.delete.end", {"id": "n-3"}),
    ("router.interface.create", {"router": {"id": "r"}}),
    ("router.interface.delete", {"router_interface": {"id": "r-1"}}),
    ("subnet.create.end", {"subnet": []}),
    ("compute.instance.create.end\x00", {"instance_id": "nul\x00", "huge": "x" * 100_000}),  # NUL, 100 kB
]


def lab_messages(calipso, env: str) -> list:
    with calipso.engine.connect() as conn:
        return list(conn.execute(select(messages).where(messages.c.environment == env).order_by(messages.c.id)))


def test_bad_notifications_are_recorded_and_the_listener_goes_on(calipso, live_lab, rabbitmq):  # noqa: F811 - the fixture
    lab, listener = live_lab(seed=7, hosts=4, instances=6)
    env = lab.options.env_name
    with NotificationPublisher(bus_settings(rabbitmq.url), "nova") as nova:
        for event_type, payload in BAD:
            nova.send("compute.nowhere", event_type, "ERROR" if "teleport" in event_type else "INFO", payload)
    rng = random.Random(3)
    for _ in range(10):
        lab.change(rng)
    assert caught_up(listener, notifier_of(lab), others=len(BAD))
    found = lab_messages(calipso, env)
    assert listener.processor.stats["rejected"] == len(BAD)
    assert len(found) == len(BAD)
    assert all(m.doc.get("reason") and "payload" in m.doc and m.doc.get("message_id") for m in found)
    by_type = {}
    for m in found:
        by_type.setdefault(m.event_type, []).append(m)
    assert by_type["compute.instance.teleport.end"][0].level == "warn"
    assert by_type["compute.instance.teleport.end"][0].doc["priority"] == "ERROR"
    assert any(m.related_object == "i-1" and "host" in m.doc["reason"] for m in found)
    assert any(m.doc["reason"] == "port network_id is not a non-empty string (int)" and m.related_object == "p-1"
               for m in found)
    [nul] = [m for m in found if m.event_type.startswith("compute.instance.create.end\\x00")]
    assert isinstance(nul.doc["payload"], str) and len(nul.doc["payload"]) < 40_000
    assert differences(calipso, lab) == []  # the real changes around them were applied


def test_a_stale_port_update_is_rejected(calipso, live_lab, rabbitmq):  # noqa: F811 - the fixture
    lab, listener = live_lab(seed=8, hosts=4, instances=4)
    env = lab.options.env_name
    network = next(n for n in lab.model.networks.values() if not n.external and not n.shared)
    created = lab.announce(lab.model.create_port(network.id, name="first"))
    for name in ("second", "third"):
        lab.announce(lab.model.update_port(created.object_id, name=name))
    assert caught_up(listener, notifier_of(lab))
    stored = calipso.inventory.get(env, created.object_id)
    assert (stored["port_name"], stored["revision_number"]) == ("third", 3)
    stale = {"port": {**{k: stored[k] for k in ("id", "network_id", "mac_address", "device_owner")},
                      "name": "second", "revision_number": 2, "project_id": network.project_id}}
    before = listener.processor.stats["stale"]
    with NotificationPublisher(bus_settings(rabbitmq.url), "neutron") as neutron:
        neutron.send("network.controller", "port.update.end", "INFO", stale)
    deadline = time.monotonic() + 30
    while listener.processor.stats["stale"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.processor.stats["stale"] == before + 1
    assert calipso.inventory.get(env, created.object_id)["port_name"] == "third"


def test_a_renamed_network_relabels_its_instances_and_rescans_only_its_network_nodes(
        calipso, live_lab, rabbitmq):  # noqa: F811 - the fixture
    """Nothing changed on the compute hosts: the instances' labels and the links they name
    did; the network nodes' DHCP vServices are named by the network."""
    lab, listener = live_lab(seed=9, hosts=4, instances=8)
    ports = [p for p in lab.model.ports.values() if p.host]
    network = next(n for n in lab.model.networks.values()
                   if any(p.network_id == n.id and p.device_owner.startswith("compute:") for p in ports))
    ports = [p for p in ports if p.network_id == network.id]
    instance = next(p.device_id for p in ports if p.device_owner.startswith("compute:"))
    services = {p.host for p in ports if p.device_owner.startswith("network:")}
    before = listener.processor.stats["hosts_rescanned"]
    lab.announce(lab.model.update_network(network.id, name="renamed"))
    assert caught_up(listener, notifier_of(lab))
    stored = calipso.inventory.get(lab.options.env_name, instance)
    assert [n["network"]["label"] for n in stored["network_info"] if n["network"]["id"] == network.id] == ["renamed"]
    assert differences(calipso, lab) == []
    assert listener.processor.stats["hosts_rescanned"] - before == len(services)
    objects = {o["id"]: o for o in calipso.inventory.find(lab.options.env_name)}
    below = [o for o in objects.values() if f"/{network.id}/" in o["id_path"] or "qdhcp-renamed/" in o["name_path"]]
    assert len(below) > len(ports)  # its ports folder and ports, its DHCP vService's vNICs folder and vNIC
    assert [(o["id"], o["name_path"]) for o in below] == [
        (o["id"], f"{objects[o['parent_id']]['name_path']}/{o['name']}") for o in below]
    # each object rewritten from the network's refresh keeps the revision it was read at
    assert objects[network.id]["revision_number"] == lab.model.networks[network.id].revision
    assert {p.id: objects[p.id]["revision_number"] for p in ports} == {p.id: p.revision for p in ports}


def test_a_renamed_instance_is_read_again_from_the_api_and_its_host_is_not_asked(
        calipso, live_lab, rabbitmq, monkeypatch):  # noqa: F811 - the fixture
    """A rename changes the instance's document and the name paths below it, nothing its
    host shows: no command runs there, its vNICs stay as they were, under the new name."""
    lab, listener = live_lab(seed=14, hosts=3, instances=6)
    env = lab.options.env_name
    instance = next(iter(lab.model.instances.values()))
    vnics = {o["id"]: o for o in calipso.inventory.find(env, {"type": "vnic", "instance_id": instance.id})}
    assert vnics
    asked, execute = [], lab.ssh.execute
    monkeypatch.setattr(lab.ssh, "execute",
                        lambda host, command: asked.append((host, command)) or execute(host, command))
    before = listener.processor.stats["hosts_rescanned"]
    lab.announce(lab.model.rename_instance(instance.id, "renamed"))
    assert caught_up(listener, notifier_of(lab))
    stored = calipso.inventory.get(env, instance.id)
    assert stored["name"] == "renamed" and stored["name_path"].endswith("/renamed")
    assert differences(calipso, lab) == []
    assert asked == []
    assert listener.processor.stats["hosts_rescanned"] == before
    for vnic_id, vnic in vnics.items():
        now = calipso.inventory.get(env, vnic_id)
        assert now["name_path"] == f"{stored['name_path']}/vNICs/{vnic['name']}"
        assert {k: v for k, v in now.items() if k != "name_path"} == {k: v for k, v in vnic.items() if k != "name_path"}
