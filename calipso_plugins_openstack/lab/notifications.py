"""The notifications Nova and Neutron send when the lab cloud changes.

Each builder takes plain dicts describing lab objects and returns, in the order the real
services send them, ``LabNotification(publisher_id, event_type, priority, payload)``:

- Nova's legacy ``compute.instance.*`` payloads (topic ``notifications``): flat, with
  ``state``/``old_state``, ``state_description`` (the task state), the ``audit_period_*``
  bounds, ``old_display_name`` on a rename and ``fixed_ips`` on ``create.end``;
- or, with ``versioned=True``, Nova's ``instance.*`` notifications (topic
  ``versioned_notifications``) whose payloads are ``nova_object.*`` envelopes;
- Neutron's API body wrapped in its resource name (``{"network": {...}}``), with the
  standard attributes of current releases (``revision_number``, ``created_at``,
  ``updated_at``), which let a consumer drop stale or replayed updates.

oslo.messaging adds ``message_id`` and ``timestamp`` to the envelope when it sends.

Input dicts (missing optional keys get lab defaults; times are ISO 8601 strings in UTC):

- instance: ``uuid`` (or ``id``), ``name``, ``host``, ``project_id``, ``user_id``, ``state``
  (vm state), ``power_state`` (name or Nova's number), ``image`` (id), ``flavor`` (``{id,
  name, vcpus, ram, disk}``), ``ports`` (``[{id, mac, ip, network_name}]``), ``zone``,
  ``created_at``, ``launched_at``;
- network: ``id``, ``name``, ``project_id``, ``network_type``, ``physical_network``,
  ``segmentation_id``, ``mtu``, ``shared``, ``external``, ``subnet_ids``;
- subnet: ``id``, ``name``, ``network_id``, ``project_id``, ``cidr``, ``gateway_ip``,
  ``enable_dhcp``, ``ip_version``, ``dns_nameservers``;
- port: ``id``, ``name``, ``network_id``, ``project_id``, ``mac``, ``fixed_ips`` (``(subnet
  id, address)`` pairs), ``device_id``, ``device_owner``, ``host``, ``vif_type``, ``status``;
- router: ``id``, ``name``, ``project_id``, ``external_gateway`` (``{network_id,
  subnet_id, ip_address}`` or absent);
- router interface: ``router_id``, ``port_id``, ``subnet_id``, ``network_id``, ``project_id``;
- every Neutron object: optional ``revision_number`` (or ``revision``), ``created_at``,
  ``updated_at``, ``admin_state_up``, ``status``, ``description``.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

INFO = "INFO"
POWER_STATES = {0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}
VIF_DETAILS = {"ovs": {"port_filter": True, "ovs_hybrid_plug": True}, "bridge": {"port_filter": True},
               "vhostuser": {"port_filter": False, "vhostuser_mode": "server"}}
REQUEST_KEYS = {"network": ("name", "admin_state_up"), "router": ("name", "admin_state_up", "external_gateway_info"),
                "subnet": ("name", "network_id", "cidr", "ip_version", "enable_dhcp", "gateway_ip"),
                "port": ("name", "network_id", "admin_state_up", "device_id", "device_owner", "binding:host_id")}


class LabNotification(NamedTuple):
    """One notification as a service hands it to its oslo.messaging notifier."""

    publisher_id: str
    event_type: str
    priority: str
    payload: dict

    @property
    def exchange(self) -> str:
        """The control exchange of the sending service."""
        return "nova" if self.publisher_id.startswith(("compute.", "nova-compute:")) else "neutron"

    @property
    def topic(self) -> str:
        return "versioned_notifications" if "nova_object.name" in self.payload else "notifications"


def request_context(project_id: str, user_id: str, project_name: str = "", user_name: str = "",
                    now: datetime | None = None) -> dict:
    """The request context a service sends along (as ``_context_*`` keys), without the token."""
    return {"request_id": f"req-{uuid.uuid4()}", "user_id": user_id, "user": user_id, "user_name": user_name,
            "project_id": project_id, "tenant": project_id, "tenant_id": project_id, "project_name": project_name,
            "tenant_name": project_name, "user_identity": f"{user_id} {project_id} - - -", "roles": ["member"],
            "is_admin": False, "read_only": False, "show_deleted": False, "domain": None, "user_domain": None,
            "project_domain": None, "resource_uuid": None, "timestamp": _now(now).strftime("%Y-%m-%d %H:%M:%S.%f")}


# --- time formats -----------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _time(value: str | datetime | None, now: datetime) -> datetime:
    if not value:
        return now
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _api(t: datetime) -> str:  # Neutron's API and Nova's versioned payloads
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _legacy(t: datetime | None) -> str:  # Nova's legacy isotime; "" for no time
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") if t else ""


# --- Nova -------------------------------------------------------------------------------------


def instance_boot(instance: dict, *, versioned: bool = False, now: datetime | None = None) -> list[LabNotification]:
    """Boot on the compute host: ``create.start``, the update to active, ``create.end``."""
    now = _now(now)
    booted = {**instance, "launched_at": instance.get("launched_at") or _api(now)}
    building = {**instance, "launched_at": None}
    return [_action(building, "create.start", "building", "spawning", 0, versioned, now,
                    image_name=instance.get("image_name", "")),
            _state_update(booted, ("building", "active"), ("spawning", None), versioned, now),
            _action(booted, "create.end", "active", None, 1, versioned, now, message="Success")]


def instance_delete(instance: dict, *, versioned: bool = False, now: datetime | None = None) -> list[LabNotification]:
    """Delete: ``delete.start``, the guest's shutdown, the update to deleted, ``delete.end``."""
    now = _now(now)
    state = instance.get("state", "active")
    gone = {**instance, "terminated_at": _api(now), "deleted_at": _api(now)}
    return [_action(instance, "delete.start", state, "deleting", 1, versioned, now),
            _action(instance, "shutdown.start", state, "deleting", 1, versioned, now),
            _action(instance, "shutdown.end", state, "deleting", 4, versioned, now),
            _state_update({**gone, "deleted_at": None}, (state, "deleted"), ("deleting", None), versioned, now),
            _action(gone, "delete.end", "deleted", None, 0, versioned, now)]


def instance_rename(instance: dict, old_name: str, *, versioned: bool = False,
                    now: datetime | None = None) -> list[LabNotification]:
    """A rename through the API: one update that carries ``old_display_name``."""
    state = instance.get("state", "active")
    return [_state_update(instance, (state, state), (None, None), versioned, _now(now), old_name=old_name)]


def instance_power_off(instance: dict, *, versioned: bool = False,
                       now: datetime | None = None) -> list[LabNotification]:
    now = _now(now)
    return [_action(instance, "power_off.start", "active", "powering-off", 1, versioned, now),
            _state_update(instance, ("active", "stopped"), ("powering-off", None), versioned, now, power=4),
            _action(instance, "power_off.end", "stopped", None, 4, versioned, now)]


def instance_power_on(instance: dict, *, versioned: bool = False, now: datetime | None = None) -> list[LabNotification]:
    now = _now(now)
    return [_action(instance, "power_on.start", "stopped", "powering-on", 4, versioned, now),
            _state_update(instance, ("stopped", "active"), ("powering-on", None), versioned, now, power=1),
            _action(instance, "power_on.end", "active", None, 1, versioned, now)]


def _action(inst: dict, action: str, state: str, task: str | None, power: int, versioned: bool, now: datetime,
            **legacy_extra) -> LabNotification:
    if versioned:
        data = {**_versioned_instance(inst, state, task, power, now), "fault": None}
        return LabNotification(f"nova-compute:{inst['host']}", f"instance.{action}", INFO,
                               _nova_object("InstanceActionPayload", "1.1", data))
    payload = {**_legacy_instance(inst, state, task, now), **legacy_extra}
    if action == "create.end":
        payload["fixed_ips"] = [_legacy_fixed_ip(p) for p in inst.get("ports", ())]
    return LabNotification(f"compute.{inst['host']}", f"compute.instance.{action}", INFO, payload)


def _state_update(inst: dict, states: tuple, tasks: tuple, versioned: bool, now: datetime,
                  old_name: str | None = None, power: int | None = None) -> LabNotification:
    (old_state, state), (old_task, task) = states, tasks
    audit_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if versioned:
        data = _versioned_instance(inst, state, task, power if power is not None else _power(inst), now)
        data.update(
            audit_period=_nova_object("AuditPeriodPayload", "1.0", {"audit_period_beginning": _api(audit_start),
                                                                    "audit_period_ending": _api(now)}),
            bandwidth=[], old_display_name=old_name,
            state_update=_nova_object("InstanceStateUpdatePayload", "1.0", {
                "old_state": old_state, "state": state, "old_task_state": old_task, "new_task_state": task}))
        return LabNotification(f"nova-compute:{inst['host']}", "instance.update", INFO,
                               _nova_object("InstanceUpdatePayload", "1.1", data))
    payload = _legacy_instance(inst, state, task, now)
    payload.update(old_state=old_state, old_task_state=old_task, new_task_state=task, bandwidth={},
                   audit_period_beginning=_legacy(audit_start), audit_period_ending=_legacy(now))
    if old_name:  # Nova adds it only when the name changed
        payload["old_display_name"] = old_name
    return LabNotification(f"compute.{inst['host']}", "compute.instance.update", INFO, payload)


def _uuid(inst: dict) -> str:
    return inst.get("uuid") or inst["id"]


def _flavor(inst: dict) -> dict:
    f = inst.get("flavor") or {}
    return {"id": f.get("id", "1"), "name": f.get("name", "m1.tiny"), "vcpus": f.get("vcpus", 1),
            "ram": f.get("ram", 512), "disk": f.get("disk", 1), "ephemeral": f.get("ephemeral", 0)}


def _power(inst: dict) -> int:
    value = inst.get("power_state", 1)
    return value if isinstance(value, int) else {v: k for k, v in POWER_STATES.items()}.get(value, 1)


def _legacy_instance(inst: dict, state: str, task: str | None, now: datetime) -> dict:
    f, image = _flavor(inst), inst.get("image", "")
    launched, ended = inst.get("launched_at"), inst.get("terminated_at")
    return {
        "tenant_id": inst["project_id"], "user_id": inst["user_id"], "instance_id": _uuid(inst),
        "display_name": inst["name"], "reservation_id": f"r-{_uuid(inst)[:8]}", "hostname": _hostname(inst),
        "instance_type": f["name"], "instance_type_id": inst.get("flavor_number", 1), "instance_flavor_id": f["id"],
        "architecture": inst.get("architecture"), "memory_mb": f["ram"], "disk_gb": f["disk"] + f["ephemeral"],
        "vcpus": f["vcpus"], "root_gb": f["disk"], "ephemeral_gb": f["ephemeral"],
        "host": inst["host"], "node": inst.get("node", inst["host"]),
        "availability_zone": inst.get("zone", "nova"), "cell_name": "",
        "created_at": str(_time(inst.get("created_at"), now).replace(microsecond=0)),
        "terminated_at": _legacy(_time(ended, now) if ended else None),
        "deleted_at": _legacy(_time(inst["deleted_at"], now) if inst.get("deleted_at") else None),
        "launched_at": _legacy(_time(launched, now) if launched else None),
        "image_ref_url": f"http://glance:9292/images/{image}", "os_type": None, "kernel_id": "", "ramdisk_id": "",
        "state": state, "state_description": task or "", "progress": "", "access_ip_v4": None, "access_ip_v6": None,
        "image_meta": {"base_image_ref": image, "container_format": "bare", "disk_format": "qcow2",
                       "min_disk": str(f["disk"]), "min_ram": "0"},
        "metadata": dict(inst.get("metadata") or {}),
    }


def _hostname(inst: dict) -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in inst["name"].lower())


def _legacy_fixed_ip(port: dict) -> dict:
    return {"address": _ip(port), "type": "fixed", "version": _ip_version(_ip(port)), "meta": {},
            "floating_ips": [], "label": port.get("network_name", ""), "vif_mac": port.get("mac", "")}


def _ip(port: dict) -> str:
    return port.get("ip") or port.get("ip_address", "")


def _ip_version(address: str) -> int:
    return ipaddress.ip_address(address).version if address else 4


def _nova_object(name: str, version: str, data: dict) -> dict:
    return {"nova_object.name": name, "nova_object.namespace": "nova", "nova_object.version": version,
            "nova_object.data": data}


def _versioned_instance(inst: dict, state: str, task: str | None, power: int, now: datetime) -> dict:
    f, deleted = _flavor(inst), state == "deleted"
    times = {k: _api(_time(inst[k], now)) if inst.get(k) else None for k in ("launched_at", "terminated_at",
                                                                               "deleted_at")}
    flavor = {"flavorid": f["id"], "name": f["name"], "root_gb": f["disk"], "vcpus": f["vcpus"],
              "ephemeral_gb": f["ephemeral"], "memory_mb": f["ram"], "disabled": False, "rxtx_factor": 1.0,
              "extra_specs": {}, "swap": 0, "is_public": True, "vcpu_weight": 0}
    return {
        "uuid": _uuid(inst), "user_id": inst["user_id"], "tenant_id": inst["project_id"],
        "reservation_id": f"r-{_uuid(inst)[:8]}", "display_name": inst["name"], "display_description": inst["name"],
        "host_name": _hostname(inst), "host": inst["host"], "node": inst.get("node", inst["host"]),
        "os_type": None, "architecture": inst.get("architecture", "x86_64"),
        "availability_zone": inst.get("zone", "nova"), "image_uuid": inst.get("image", ""), "kernel_id": "",
        "ramdisk_id": "", "created_at": _api(_time(inst.get("created_at"), now)), **times,
        "state": state, "task_state": task, "power_state": POWER_STATES.get(power, "pending"), "progress": 0,
        "ip_addresses": [] if deleted else [_ip_payload(p) for p in inst.get("ports", ())],
        "metadata": dict(inst.get("metadata") or {}), "locked": False,
        "flavor": _nova_object("FlavorPayload", "1.2", flavor),
    }


def _ip_payload(port: dict) -> dict:
    return _nova_object("IpPayload", "1.0", {
        "mac": port.get("mac", ""), "address": _ip(port), "port_uuid": port.get("id", ""), "meta": {},
        "version": _ip_version(_ip(port)), "label": port.get("network_name", ""),
        "device_name": f"tap{port.get('id', '')[:11]}"})


# --- Neutron ----------------------------------------------------------------------------------


def network_create(network: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _created("network", _network_body(network, _now(now)), host)


def network_update(network: dict, changed: tuple[str, ...] = ("name",), *, host: str = "controller",
                   now: datetime | None = None) -> list[LabNotification]:
    return _updated("network", _network_body(network, _now(now)), changed, host)


def network_delete(network: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _deleted("network", _network_body(network, _now(now)), host)


def subnet_create(subnet: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _created("subnet", _subnet_body(subnet, _now(now)), host)


def subnet_update(subnet: dict, changed: tuple[str, ...] = ("name",), *, host: str = "controller",
                  now: datetime | None = None) -> list[LabNotification]:
    return _updated("subnet", _subnet_body(subnet, _now(now)), changed, host)


def subnet_delete(subnet: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _deleted("subnet", _subnet_body(subnet, _now(now)), host)


def port_create(port: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _created("port", _port_body(port, _now(now)), host)


def port_update(port: dict, changed: tuple[str, ...] = ("name",), *, host: str = "controller",
                now: datetime | None = None) -> list[LabNotification]:
    return _updated("port", _port_body(port, _now(now)), changed, host)


def port_delete(port: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _deleted("port", _port_body(port, _now(now)), host)


def router_create(router: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _created("router", _router_body(router, _now(now)), host)


def router_update(router: dict, changed: tuple[str, ...] = ("name",), *, host: str = "controller",
                  now: datetime | None = None) -> list[LabNotification]:
    return _updated("router", _router_body(router, _now(now)), changed, host)


def router_delete(router: dict, *, host: str = "controller", now: datetime | None = None) -> list[LabNotification]:
    return _deleted("router", _router_body(router, _now(now)), host)


def router_interface_create(interface: dict, *, host: str = "controller") -> list[LabNotification]:
    """A subnet attached to a router: one notification, no start/end pair."""
    return [LabNotification(f"network.{host}", "router.interface.create", INFO, _interface_body(interface))]


def router_interface_delete(interface: dict, *, host: str = "controller") -> list[LabNotification]:
    return [LabNotification(f"network.{host}", "router.interface.delete", INFO, _interface_body(interface))]


def _created(resource: str, body: dict, host: str) -> list[LabNotification]:
    request = {k: body[k] for k in REQUEST_KEYS[resource] if k in body}
    return [LabNotification(f"network.{host}", f"{resource}.create.start", INFO, {resource: request}),
            LabNotification(f"network.{host}", f"{resource}.create.end", INFO, {resource: body})]


def _updated(resource: str, body: dict, changed: tuple[str, ...], host: str) -> list[LabNotification]:
    request = {resource: {k: body[k] for k in changed if k in body}, "id": body["id"]}
    return [LabNotification(f"network.{host}", f"{resource}.update.start", INFO, request),
            LabNotification(f"network.{host}", f"{resource}.update.end", INFO, {resource: body})]


def _deleted(resource: str, body: dict, host: str) -> list[LabNotification]:
    key = f"{resource}_id"
    return [LabNotification(f"network.{host}", f"{resource}.delete.start", INFO, {key: body["id"]}),
            LabNotification(f"network.{host}", f"{resource}.delete.end", INFO, {key: body["id"], resource: body})]


def _standard(obj: dict, now: datetime) -> dict:
    """The attributes every Neutron resource has had since Newton: owner, description,
    tags, timestamps and the revision number that grows with each change."""
    return {"tenant_id": obj["project_id"], "project_id": obj["project_id"],
            "description": obj.get("description", ""), "tags": list(obj.get("tags", ())),
            "created_at": _api(_time(obj.get("created_at"), now)),
            "updated_at": _api(_time(obj.get("updated_at"), now)),
            "revision_number": obj.get("revision_number", obj.get("revision", 1))}


def _network_body(n: dict, now: datetime) -> dict:
    return {"id": n["id"], "name": n["name"], "admin_state_up": n.get("admin_state_up", True),
            "status": n.get("status", "ACTIVE"), "shared": n.get("shared", False),
            "router:external": n.get("external", False), "mtu": n.get("mtu", 1450),
            "subnets": list(n.get("subnet_ids", ())), "port_security_enabled": True,
            "provider:network_type": n.get("network_type", "vxlan"),
            "provider:physical_network": n.get("physical_network"),
            "provider:segmentation_id": n.get("segmentation_id"), **_standard(n, now)}


def _subnet_body(s: dict, now: datetime) -> dict:
    return {"id": s["id"], "name": s["name"], "network_id": s["network_id"], "cidr": s["cidr"],
            "ip_version": s.get("ip_version", 4), "gateway_ip": s.get("gateway_ip"),
            "enable_dhcp": s.get("enable_dhcp", True), "allocation_pools": _allocation_pools(s),
            "dns_nameservers": list(s.get("dns_nameservers", ())), "host_routes": [],
            "ipv6_address_mode": None, "ipv6_ra_mode": None, "subnetpool_id": None, **_standard(s, now)}


def _allocation_pools(s: dict) -> list[dict]:
    if "allocation_pools" in s:
        return list(s["allocation_pools"])
    if s.get("allocation_start"):
        return [{"start": s["allocation_start"], "end": s["allocation_end"]}]
    hosts = list(ipaddress.ip_network(s["cidr"]).hosts())
    return [{"start": str(hosts[1]), "end": str(hosts[-1])}] if len(hosts) > 1 else []


def _port_body(p: dict, now: datetime) -> dict:
    ips = [ip if isinstance(ip, dict) else {"subnet_id": ip[0], "ip_address": ip[1]} for ip in p.get("fixed_ips", ())]
    vif_type = p.get("vif_type", "ovs" if p.get("host") else "unbound")
    return {"id": p["id"], "name": p.get("name", ""), "network_id": p["network_id"],
            "mac_address": p.get("mac") or p.get("mac_address", ""), "admin_state_up": p.get("admin_state_up", True),
            "status": p.get("status", "ACTIVE"), "device_id": p.get("device_id", ""),
            "device_owner": p.get("device_owner", ""), "fixed_ips": ips, "allowed_address_pairs": [],
            "extra_dhcp_opts": [], "security_groups": list(p.get("security_groups", ())),
            "port_security_enabled": p.get("port_security_enabled", True), "dns_name": "",
            "dns_assignment": [{"ip_address": ip["ip_address"], "hostname": _dns_host(ip["ip_address"]),
                                "fqdn": f"{_dns_host(ip['ip_address'])}.openstacklocal."} for ip in ips],
            "binding:host_id": p.get("host", ""), "binding:profile": {}, "binding:vif_type": vif_type,
            "binding:vif_details": dict(VIF_DETAILS.get(vif_type, {})),
            "binding:vnic_type": p.get("vnic_type", "normal"),
            **_standard(p, now)}


def _dns_host(address: str) -> str:
    return "host-" + address.replace(".", "-").replace(":", "-")


def _router_body(r: dict, now: datetime) -> dict:
    gateway = r.get("external_gateway")
    info = None
    if gateway:
        info = {"network_id": gateway["network_id"], "enable_snat": gateway.get("enable_snat", True),
                "external_fixed_ips": [{"subnet_id": gateway.get("subnet_id", ""),
                                        "ip_address": gateway.get("ip_address", "")}]}
    return {"id": r["id"], "name": r["name"], "admin_state_up": r.get("admin_state_up", True),
            "status": r.get("status", "ACTIVE"), "external_gateway_info": info, "routes": list(r.get("routes", ())),
            "ha": r.get("ha", False), "distributed": r.get("distributed", False), **_standard(r, now)}


def _interface_body(i: dict) -> dict:
    return {"router_interface": {"id": i["router_id"], "tenant_id": i["project_id"], "port_id": i["port_id"],
                                 "network_id": i["network_id"], "subnet_id": i["subnet_id"],
                                 "subnet_ids": [i["subnet_id"]]}}
