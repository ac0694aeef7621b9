"""The lab's Nova and Neutron notifications have the shape of recorded real ones, and go
over a real RabbitMQ unchanged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from calipso_core.messaging import NotificationListener, NotificationPublisher, bus_settings
from calipso_plugins_openstack.lab import notifications as lab

NOW = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
# Neutron attributes that releases after the recorded ones (Mitaka) add to every resource.
STANDARD = {"project_id", "description", "tags", "created_at", "updated_at", "revision_number"}
PORT = {"id": "6a0b6c8e-1f6e-4f0a-9a55-1d5d1c3e2f10", "mac": "fa:16:3e:04:cd:ab", "ip": "172.16.13.6",
        "network_id": "55550a69-24eb-47f5-a458-3aa086cc71c2", "network_name": "tenant-net"}
INSTANCE = {
    "uuid": "27a87908-bc1b-45cc-9238-09ad1ae686a7", "name": "web-1", "host": "node-3", "zone": "az-1",
    "project_id": "75c0eb79ff4a42b0ae4973c8375ddf40", "user_id": "13baa553aae44adca6615e711fd2f6d9",
    "state": "active", "power_state": "running", "image": "c6f490c4-3656-43c6-8d03-b4e66bd249f9",
    "flavor": {"id": "2", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
    "ports": [PORT], "created_at": "2025-03-14T09:20:00Z", "launched_at": "2025-03-14T09:21:00Z",
}
PROJECT = INSTANCE["project_id"]
NETWORK = {"id": PORT["network_id"], "name": "tenant-net", "project_id": PROJECT, "network_type": "vxlan",
           "segmentation_id": 8, "mtu": 1450, "subnet_ids": ["9a9c1848-ea23-4c5d-8c40-ae1def4c2de3"],
           "revision_number": 4, "created_at": "2025-03-14T09:00:00Z", "updated_at": "2025-03-14T09:26:00Z"}
SUBNET = {"id": "9a9c1848-ea23-4c5d-8c40-ae1def4c2de3", "name": "tenant-sub", "network_id": NETWORK["id"],
          "project_id": PROJECT, "cidr": "172.16.13.0/24", "gateway_ip": "172.16.13.1", "enable_dhcp": True}
DHCP_PORT = {**PORT, "id": "16620a58-c48c-4195-b9c1-779a8ba2e6f8", "device_owner": "network:dhcp",
             "device_id": f"dhcp-{NETWORK['id']}", "host": "node-1", "project_id": PROJECT,
             "fixed_ips": [(SUBNET["id"], "172.16.13.2")]}
VM_PORT = {**DHCP_PORT, "id": PORT["id"], "device_owner": "compute:az-1", "device_id": INSTANCE["uuid"],
           "host": "node-3", "fixed_ips": [(SUBNET["id"], PORT["ip"])], "security_groups": ["sg-1"]}
GATEWAY = {"network_id": "c64adb76-ad9d-4605-9f5e-123456781234", "subnet_id": "a5336853-cbc0-49e8-8401-a093e8bab7bb",
           "ip_address": "172.16.0.137"}
ROUTER = {"id": "c485d5f4-dfec-430f-8ad8-409c7034b46d", "name": "r1", "project_id": PROJECT, "revision": 2}
INTERFACE = {"router_id": ROUTER["id"], "port_id": "1233445-75b6-4c05-9480-4bc648845c6f",
             "subnet_id": SUBNET["id"], "network_id": NETWORK["id"], "project_id": PROJECT}


def key_paths(value, prefix: str = "") -> set[str]:
    """Every key of a payload as a dotted path, into nested objects and into list items."""
    paths = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths.add(prefix + key)
            paths |= key_paths(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[].")
    return paths


def the(notes: list, event_type: str):
    [note] = [n for n in notes if n.event_type == event_type]
    return note


# --- Nova, legacy format --------------------------------------------------------------------


@pytest.mark.parametrize("fixture, build, step", [
    ("compute_instance_update_instance_update", lambda: lab.instance_rename(INSTANCE, "web-0", now=NOW), 0),
    ("compute_instance_update_instance_add", lambda: lab.instance_boot(INSTANCE, now=NOW), 1),
    ("compute_instance_update_instance_delete", lambda: lab.instance_delete(INSTANCE, now=NOW), 3),
])
def test_instance_updates_have_the_recorded_keys(recorded_notification, fixture, build, step):
    real, note = recorded_notification(fixture), build()[step]
    assert (note.event_type, note.priority) == (real["event_type"], real["priority"])
    assert note.publisher_id == "compute.node-3" and real["publisher_id"].startswith("compute.")
    expected = key_paths(real["payload"])
    if step:  # Nova adds old_display_name only to the update of a rename
        expected.discard("old_display_name")
    assert key_paths(note.payload) == expected


def test_instance_update_states_follow_the_recorded_transitions(recorded_notification):
    boot, delete = lab.instance_boot(INSTANCE, now=NOW)[1].payload, lab.instance_delete(INSTANCE, now=NOW)[3].payload
    for built, real in ((boot, recorded_notification("compute_instance_update_instance_add")),
                        (delete, recorded_notification("compute_instance_update_instance_delete"))):
        assert (built["old_state"], built["state"]) == (real["payload"]["old_state"], real["payload"]["state"])
    rename = lab.instance_rename(INSTANCE, "web-0", now=NOW)[0].payload
    assert (rename["display_name"], rename["old_display_name"], rename["state"]) == ("web-1", "web-0", "active")
    assert rename["audit_period_beginning"] == "2025-03-01T00:00:00.000000"
    assert rename["audit_period_ending"] == "2025-03-14T09:26:53.589793"
    assert rename["state_description"] == "" and rename["created_at"] == "2025-03-14 09:20:00+00:00"


def test_boot_announces_start_update_end_with_the_addresses():
    notes = lab.instance_boot(INSTANCE, now=NOW)
    assert [n.event_type for n in notes] == [
        "compute.instance.create.start", "compute.instance.update", "compute.instance.create.end"]
    assert {(n.exchange, n.topic) for n in notes} == {("nova", "notifications")}
    start, end = notes[0].payload, notes[2].payload
    assert (start["state"], start["state_description"], start["launched_at"]) == ("building", "spawning", "")
    assert (end["state"], end["message"], end["launched_at"]) == ("active", "Success", "2025-03-14T09:21:00.000000")
    assert end["fixed_ips"] == [{"address": "172.16.13.6", "type": "fixed", "version": 4, "meta": {},
                                 "floating_ips": [], "label": "tenant-net", "vif_mac": "fa:16:3e:04:cd:ab"}]
    assert (end["memory_mb"], end["instance_type"], end["tenant_id"]) == (2048, "m1.small", PROJECT)


def test_delete_and_power_changes_end_in_the_right_state():
    delete = lab.instance_delete(INSTANCE, now=NOW)
    assert [n.event_type for n in delete] == [
        "compute.instance.delete.start", "compute.instance.shutdown.start", "compute.instance.shutdown.end",
        "compute.instance.update", "compute.instance.delete.end"]
    assert delete[-1].payload["state"] == "deleted" and delete[-1].payload["deleted_at"] == "2025-03-14T09:26:53.000000"
    off = lab.instance_power_off(INSTANCE, now=NOW)
    assert [n.event_type for n in off] == [
        "compute.instance.power_off.start", "compute.instance.update", "compute.instance.power_off.end"]
    assert (off[1].payload["old_state"], off[1].payload["state"], off[2].payload["state"]) == (
        "active", "stopped", "stopped")
    on = lab.instance_power_on({**INSTANCE, "state": "stopped"}, now=NOW)
    assert [n.payload["state"] for n in on] == ["stopped", "active", "active"]


# --- Nova, versioned format -----------------------------------------------------------------


@pytest.mark.parametrize("fixture, build, step", [
    ("instance-create-end", lab.instance_boot, 2),
    ("instance-update", lambda inst, **kw: lab.instance_boot({**inst, "ports": []}, **kw), 1),  # no port yet
    ("instance-delete-end", lab.instance_delete, -1),
    ("instance-power_off-end", lab.instance_power_off, -1),
])
def test_versioned_notifications_have_the_sample_keys(versioned_notification, fixture, build, step):
    real, note = versioned_notification(fixture), build(INSTANCE, versioned=True, now=NOW)[step]
    assert (note.event_type, note.priority) == (real["event_type"], real["priority"])
    assert note.publisher_id == "nova-compute:node-3" and real["publisher_id"].startswith("nova-compute:")
    assert (note.exchange, note.topic) == ("nova", "versioned_notifications")
    assert key_paths(note.payload) == key_paths(real["payload"])
    assert note.payload["nova_object.name"] == real["payload"]["nova_object.name"]
    data, real_data = note.payload["nova_object.data"], real["payload"]["nova_object.data"]
    if "state_update" in real_data:  # the sample catches a boot earlier, still building
        old_state = data["state_update"]["nova_object.data"]["old_state"]
        assert old_state == real_data["state_update"]["nova_object.data"]["old_state"] == "building"
    else:
        assert (data["state"], data["power_state"]) == (real_data["state"], real_data["power_state"])


def test_versioned_update_carries_the_state_change():
    data = lab.instance_power_off(INSTANCE, versioned=True, now=NOW)[1].payload["nova_object.data"]
    assert data["state_update"]["nova_object.data"] == {
        "old_state": "active", "state": "stopped", "old_task_state": "powering-off", "new_task_state": None}
    assert data["audit_period"]["nova_object.data"]["audit_period_ending"] == "2025-03-14T09:26:53Z"


# --- Neutron --------------------------------------------------------------------------------


def neutron_cases():
    gw_router = {**ROUTER, "external_gateway": GATEWAY}
    return [
        ("network_create_end", lambda: lab.network_create(NETWORK, now=NOW), STANDARD),
        ("network_update_end", lambda: lab.network_update(NETWORK, now=NOW), STANDARD),
        ("subnet_create_end", lambda: lab.subnet_create(SUBNET, now=NOW), STANDARD),
        ("subnet_update_end", lambda: lab.subnet_update(SUBNET, now=NOW), STANDARD),
        ("subnet_update_end_no_gateway", lambda: lab.subnet_update({**SUBNET, "gateway_ip": None}, now=NOW), STANDARD),
        ("port_create_end", lambda: lab.port_create(VM_PORT, now=NOW),
         STANDARD | {"dns_assignment", "dns_assignment.[].ip_address", "dns_assignment.[].hostname",
                     "dns_assignment.[].fqdn"}),
        ("port_update_end", lambda: lab.port_update(DHCP_PORT, now=NOW), STANDARD),
        ("router_create_end", lambda: lab.router_create(gw_router, now=NOW), STANDARD),
        ("router_update_end", lambda: lab.router_update(ROUTER, now=NOW), STANDARD),
        ("router_update_end_set_gateway", lambda: lab.router_update(gw_router, ("external_gateway_info",), now=NOW),
         STANDARD),
        ("router_update_end_del_gateway", lambda: lab.router_update(ROUTER, ("external_gateway_info",), now=NOW),
         STANDARD),
        ("router_interface_create", lambda: lab.router_interface_create(INTERFACE), {"network_id"}),
        ("router_interface_delete", lambda: lab.router_interface_delete(INTERFACE), {"network_id"}),
    ]


@pytest.mark.parametrize("fixture, build, newer", neutron_cases(), ids=[c[0] for c in neutron_cases()])
def test_neutron_bodies_have_the_recorded_keys_plus_the_newer_standard_ones(recorded_notification, fixture, build,
                                                                            newer):
    real = recorded_notification(fixture)
    note = the(build(), real["event_type"])
    assert note.priority == real["priority"] and note.publisher_id == "network.controller"
    [resource] = real["payload"]
    assert key_paths(note.payload) == key_paths(real["payload"]) | {f"{resource}.{key}" for key in newer}


@pytest.mark.parametrize("fixture, build", [
    ("network_delete_end", lambda: lab.network_delete(NETWORK, now=NOW)),
    ("subnet_delete_end", lambda: lab.subnet_delete(SUBNET, now=NOW)),
    ("router_delete_end", lambda: lab.router_delete(ROUTER, now=NOW)),
    ("port_delete_start", lambda: lab.port_delete(VM_PORT, now=NOW)),
])
def test_neutron_deletions_name_the_object_like_the_recorded_ones(recorded_notification, fixture, build):
    real = recorded_notification(fixture)
    note = the(build(), real["event_type"])
    [(id_key, object_id)] = real["payload"].items()
    assert set(real["payload"]) <= set(note.payload) and note.payload[id_key]
    resource = id_key.removesuffix("_id")
    if note.event_type.endswith(".end"):  # current releases add the deleted object's body
        assert set(note.payload) == {id_key, resource} and note.payload[resource]["id"] == note.payload[id_key]
    else:
        assert set(note.payload) == {id_key}


def test_neutron_bodies_carry_what_detects_stale_updates():
    create, end = lab.network_create(NETWORK, now=NOW)
    assert [create.event_type, end.event_type] == ["network.create.start", "network.create.end"]
    assert create.payload == {"network": {"name": "tenant-net", "admin_state_up": True}}
    body = end.payload["network"]
    assert (body["revision_number"], body["updated_at"], body["created_at"]) == (
        4, "2025-03-14T09:26:00Z", "2025-03-14T09:00:00Z")
    assert (body["provider:segmentation_id"], body["subnets"], body["tenant_id"]) == (8, NETWORK["subnet_ids"], PROJECT)
    start, _ = lab.port_update(VM_PORT, ("name", "admin_state_up"), now=NOW)
    assert start.payload == {"port": {"name": "", "admin_state_up": True}, "id": VM_PORT["id"]}
    assert {(n.exchange, n.topic) for n in lab.router_create(ROUTER)} == {("neutron", "notifications")}
    router = lab.router_update({**ROUTER, "external_gateway": GATEWAY}, now=NOW)[1].payload["router"]
    assert router["revision_number"] == 2 and router["external_gateway_info"]["external_fixed_ips"] == [
        {"subnet_id": GATEWAY["subnet_id"], "ip_address": "172.16.0.137"}]
    subnet = lab.subnet_create(SUBNET, now=NOW)[1].payload["subnet"]
    assert subnet["allocation_pools"] == [{"start": "172.16.13.2", "end": "172.16.13.254"}]


def test_request_context_has_the_recorded_context_keys_but_no_token(recorded_notification):
    body = recorded_notification("network_create_end")
    real = {k.removeprefix("_context_") for k in body if k.startswith("_context_")}
    context = lab.request_context(PROJECT, INSTANCE["user_id"], "demo", "admin", now=NOW)
    assert set(context) == real - {"auth_token"}
    assert context["timestamp"] == "2025-03-14 09:26:53.589793" and context["request_id"].startswith("req-")


# --- over the wire --------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_lab_notifications_cross_a_real_broker_unchanged(rabbitmq):
    settings = bus_settings(rabbitmq.amqp_section())
    sent = [*lab.network_create(NETWORK), *lab.port_create(VM_PORT), *lab.instance_boot(INSTANCE)]
    received, done = [], threading.Event()

    def handle(note):
        received.append(note)
        if len(received) == len(sent):
            done.set()

    context = lab.request_context(PROJECT, INSTANCE["user_id"])
    with NotificationListener(settings, "lab-wire", handle), NotificationPublisher(settings, "nova") as nova, \
            NotificationPublisher(settings, "neutron") as neutron:
        publishers = {"nova": nova, "neutron": neutron}
        for note in sent:
            publishers[note.exchange].send(*note, context=context)
        assert done.wait(60)
    assert [(n.publisher_id, n.event_type, n.priority, n.payload) for n in received] == [tuple(n) for n in sent]
    assert len({n.message_id for n in received}) == len(sent) and all(n.timestamp for n in received)
    assert received[0].context["request_id"] == context["request_id"]

