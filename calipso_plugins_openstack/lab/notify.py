"""The lab's Nova and Neutron announce every change of the lab cloud on RabbitMQ.

``start_notifications(lab)`` (a lab service) takes the lab's broker, adds the ``AMQP``
section to the lab's environment and turns every ``Change`` of the model (with the
changes it implies, in the order they happened: ``Change.all()``) into the notifications
the real services send (``calipso_plugins_openstack.lab.notifications``), published to
the ``nova`` and ``neutron`` exchanges, topic ``notifications`` (Nova's versioned ones to
``versioned_notifications`` when ``LabNotifier.versioned`` is set).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

from calipso_core.lab.records import Change, as_dict
from calipso_core.messaging import NotificationPublisher, bus_settings
from calipso_plugins_openstack.lab import notifications as build
from calipso_plugins_openstack.lab.notifications import LabNotification, request_context

Snapshot = dict[str, Any]


def amqp_section(url: str, durable: bool) -> dict:
    """The environment's AMQP section for a ``rabbit://user:pwd@host:port/vhost`` URL."""
    parts = urlsplit(url)
    section = {"name": "AMQP", "host": parts.hostname, "port": parts.port or 5672,
               "user": unquote(parts.username or "guest"), "pwd": unquote(parts.password or "guest")}
    if parts.path.strip("/"):
        section["virtual_host"] = unquote(parts.path.strip("/"))
    if durable:
        section["durable_queues"] = True
    return section


class LabNotifier:
    """Publishes what the lab's cloud does, as Nova and Neutron would."""

    def __init__(self, model, section: dict, versioned: bool = False):
        self.model, self.versioned = model, versioned
        self.settings = bus_settings(section)
        self._publishers: dict[tuple[str, str], NotificationPublisher] = {}
        self._lock = threading.Lock()
        self.sent: Counter = Counter()
        #: When a list, every notification sent is appended as (exchange, topic, LabNotification, context).
        self.journal: list | None = None

    def announce(self, change: Change) -> None:
        """Publish the notifications of ``change`` and of the changes it implies."""
        with self.model.lock:
            tree = _Tree(change, self.model)
            notes = [(note, c) for c in change.all() for note in self.notifications(c, tree)]
        with self._lock:
            for note, c in notes:
                context = self._context(c)
                self._publisher(note).send(note.publisher_id, note.event_type, note.priority, note.payload, context)
                self.sent[note.event_type] += 1
                if self.journal is not None:
                    self.journal.append((note.exchange, note.topic, note, context))

    def replay(self, entries) -> None:
        """Send journal entries again (new message ids and times, as a re-publishing service)."""
        with self._lock:
            for _exchange, _topic, note, context in entries:
                self._publisher(note).send(note.publisher_id, note.event_type, note.priority, note.payload, context)
                self.sent[note.event_type] += 1

    def stop(self) -> None:
        with self._lock:
            for publisher in self._publishers.values():
                publisher.close()
            self._publishers.clear()

    # -- building ------------------------------------------------------------------------

    def notifications(self, change: Change, tree: _Tree) -> list[LabNotification]:
        kind, before, after = change.kind, change.before, change.after
        current = after or before
        if change.object_type == "instance":
            return self._instance(kind, before, after, tree)
        host = self._controller(tree.region_of(current))
        if kind in ("router.interface.create", "router.interface.delete"):
            port = tree.interface_port(change)
            if port is None:
                return []
            interface = {"router_id": current["id"], "port_id": port["id"], "network_id": port["network_id"],
                         "subnet_id": port["fixed_ips"][0][0] if port["fixed_ips"] else "",
                         "project_id": current["project_id"]}
            builder = build.router_interface_create if kind.endswith("create") else build.router_interface_delete
            return builder(interface, host=host)
        body = tree.router_body(current) if change.object_type == "router" else current
        action = kind.rsplit(".", 1)[1]
        if action == "update":
            changed = tuple(k for k in ("name", "admin_state_up") if (before or {}).get(k) != current.get(k))
            return getattr(build, f"{change.object_type}_update")(body, changed or ("name",), host=host)
        return getattr(build, f"{change.object_type}_{action}")(body, host=host)

    def _instance(self, kind: str, before: Snapshot | None, after: Snapshot | None, tree: _Tree):
        inst = tree.instance_body(after or before)
        versioned = self.versioned
        if kind == "instance.create":
            return build.instance_boot(inst, versioned=versioned)
        if kind == "instance.delete":
            return build.instance_delete(inst, versioned=versioned)
        if kind == "instance.power_off":
            return build.instance_power_off(inst, versioned=versioned)
        if kind == "instance.power_on":
            return build.instance_power_on(inst, versioned=versioned)
        old_name = before["name"] if before and after and before["name"] != after["name"] else None
        return build.instance_rename(inst, old_name, versioned=versioned)

    def _controller(self, region: str | None) -> str:
        hosts = self.model.hosts_with_role("controller", region) or list(self.model.hosts.values())
        return hosts[0].name if hosts else "controller"

    def _context(self, change: Change) -> dict:
        current = change.after or change.before or {}
        return request_context(current.get("project_id") or self.model.admin_project_id, self.model.admin_user_id)

    def _publisher(self, note: LabNotification) -> NotificationPublisher:
        key = (note.exchange, note.topic)
        if key not in self._publishers:
            self._publishers[key] = NotificationPublisher(self.settings, note.exchange, topic=note.topic)
        return self._publishers[key]


class _Tree:
    """The snapshots of one mutation's changes, to describe objects the mutation already
    removed from the model (a deleted instance's ports, a deleted network's region)."""

    def __init__(self, change: Change, model):
        self.model = model
        self.ports: dict[str, Snapshot] = {}
        self.networks: dict[str, Snapshot] = {}
        for c in change.all():
            if c.object_type in ("port", "network"):
                getattr(self, f"{c.object_type}s")[c.object_id] = c.after or c.before

    def port(self, port_id: str) -> Snapshot | None:
        record = self.model.ports.get(port_id)
        return as_dict(record) if record else self.ports.get(port_id)

    def network(self, network_id: str) -> Snapshot | None:
        record = self.model.networks.get(network_id)
        return as_dict(record) if record else self.networks.get(network_id)

    def region_of(self, snapshot: Snapshot) -> str | None:
        if snapshot.get("region"):
            return snapshot["region"]
        network = self.network(snapshot["network_id"]) if snapshot.get("network_id") else None
        return network.get("region") if network else None

    @staticmethod
    def interface_port(change: Change) -> Snapshot | None:
        related = [*change.preceded_by, *change.followed_by]
        return next((c.after or c.before for c in related if c.object_type == "port"), None)

    def router_body(self, router: Snapshot) -> Snapshot:
        gateway = self.port(router.get("gateway_port_id") or "")
        body = dict(router)
        if router.get("gateway_network_id") and gateway and gateway["fixed_ips"]:
            subnet_id, address = gateway["fixed_ips"][0]
            body["external_gateway"] = {"network_id": router["gateway_network_id"], "subnet_id": subnet_id,
                                        "ip_address": address}
        return body

    def instance_body(self, inst: Snapshot) -> dict:
        flavor = self.model.flavors.get(inst["flavor"])
        ports = []
        for port in filter(None, (self.port(p) for p in inst["port_ids"])):
            network = self.network(port["network_id"]) or {}
            address = port["fixed_ips"][0][1] if port["fixed_ips"] else ""
            ports.append({"id": port["id"], "mac": port["mac"], "ip": address, "network_name": network.get("name", "")})
        return {"uuid": inst["id"], "name": inst["name"], "host": inst["host"], "project_id": inst["project_id"],
                "user_id": inst["user_id"], "state": inst["vm_state"], "power_state": inst["power_state"],
                "image": inst["image_id"], "zone": inst["zone"], "created_at": inst["created_at"],
                "launched_at": inst["launched_at"], "ports": ports,
                "flavor": {"id": flavor.id, "name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.ram,
                           "disk": flavor.disk} if flavor else None}


def start_notifications(lab) -> LabNotifier | None:
    """The lab service: the lab's broker (a private one unless the lab was given a URL,
    then with durable queues), the AMQP section, and a notifier on every change; nothing
    when the lab's options turn notifications off."""
    if not lab.options.notifications:
        return None
    private = lab.amqp_url is None
    section = amqp_section(lab.broker_url(), durable=private)
    lab.add_section(section)
    notifier = LabNotifier(lab.model, section)
    lab.add_change_listener(notifier.announce)
    return notifier
