"""Nova's JSON for the lab's objects, per microversion (``mv`` is a ``(major, minor)`` tuple).

Field changes follow Nova's REST API version history: extended server attributes (2.3),
``locked`` (2.9), ``host_status`` (2.16), ``description`` (2.19), ``tags`` (2.26), the
embedded flavor (2.47), ``locked_reason`` (2.73), ``pinned_availability_zone`` (2.96),
image ``properties`` (2.98), ``scheduler_hints`` (2.100); hypervisor ``cpu_info`` as an
object (2.28), UUID ids for hypervisors and services (2.53), and the hypervisor capacity
fields dropped in favour of ``uptime`` (2.88).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

from calipso_core.lab.model import LabModel
from calipso_core.lab.records import Aggregate, Host, Instance, NovaService

MicroVersion = tuple[int, int]
SERVER_STEPS: tuple[MicroVersion, ...] = ((2, 3), (2, 9), (2, 16), (2, 19), (2, 26), (2, 47), (2, 73), (2, 96),
                                          (2, 98), (2, 100))


def server_variant(mv: MicroVersion) -> int:
    """How many of the server-changing microversions ``mv`` includes (a cache key)."""
    return sum(1 for step in SERVER_STEPS if mv >= step)


def nova_time(iso_z: str) -> str:
    """``2025-03-01T08:00:00Z`` → ``2025-03-01T08:00:00.000000`` (Nova's isotime without zone)."""
    return iso_z.rstrip("Z") + ".000000"


def status_of(instance: Instance) -> str:
    return {"active": "ACTIVE", "stopped": "SHUTOFF", "building": "BUILD", "error": "ERROR"}.get(
        instance.vm_state, instance.vm_state.upper())


def addresses(model: LabModel, instance: Instance) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    for port_id in instance.port_ids:
        port = model.ports.get(port_id)
        if port is None:
            continue
        network = model.networks[port.network_id]
        for _, address in port.fixed_ips:
            result.setdefault(network.name, []).append(
                {"version": 4, "addr": address, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port.mac})
    return result


def server_dict(model: LabModel, instance: Instance, mv: MicroVersion, base: str) -> dict:
    compute = f"{base}/{instance.region}/compute"
    flavor = model.flavors[instance.flavor]
    image = {"id": instance.image_id, "links": [{"rel": "bookmark", "href": f"{compute}/images/{instance.image_id}"}]}
    body = {
        "id": instance.id, "name": instance.name, "status": status_of(instance), "tenant_id": instance.project_id,
        "user_id": instance.user_id, "metadata": {},
        "hostId": hashlib.sha224((instance.project_id + instance.host).encode()).hexdigest(),
        "image": image, "created": instance.created_at, "updated": instance.updated_at,
        "addresses": addresses(model, instance), "accessIPv4": "", "accessIPv6": "",
        "links": [{"rel": "self", "href": f"{compute}/v2.1/servers/{instance.id}"},
                  {"rel": "bookmark", "href": f"{compute}/servers/{instance.id}"}],
        "OS-DCF:diskConfig": "MANUAL", "progress": 0, "OS-EXT-AZ:availability_zone": instance.zone,
        "config_drive": "", "key_name": None, "OS-SRV-USG:launched_at": nova_time(instance.launched_at),
        "OS-SRV-USG:terminated_at": None, "OS-EXT-SRV-ATTR:host": instance.host,
        "OS-EXT-SRV-ATTR:instance_name": instance.libvirt_name,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.host, "OS-EXT-STS:task_state": instance.task_state,
        "OS-EXT-STS:vm_state": instance.vm_state, "OS-EXT-STS:power_state": instance.power_state,
        "os-extended-volumes:volumes_attached": [], "security_groups": [{"name": "default"}],
    }
    if mv >= (2, 47):
        body["flavor"] = {"vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk, "ephemeral": 0, "swap": 0,
                          "original_name": flavor.name, "extra_specs": {}}
    else:
        body["flavor"] = {"id": flavor.id, "links": [{"rel": "bookmark", "href": f"{compute}/flavors/{flavor.id}"}]}
    _add_later_server_fields(body, instance, mv)
    return body


def _add_later_server_fields(body: dict, instance: Instance, mv: MicroVersion) -> None:
    if mv >= (2, 3):
        body.update({"OS-EXT-SRV-ATTR:reservation_id": "r-" + instance.id[:8], "OS-EXT-SRV-ATTR:launch_index": 0,
                     "OS-EXT-SRV-ATTR:ramdisk_id": "", "OS-EXT-SRV-ATTR:kernel_id": "",
                     "OS-EXT-SRV-ATTR:hostname": re.sub(r"[^a-z0-9-]+", "-", instance.name.lower()).strip("-"),
                     "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda", "OS-EXT-SRV-ATTR:user_data": None})
    for step, key, value in (((2, 9), "locked", False), ((2, 16), "host_status", "UP"), ((2, 19), "description", None),
                             ((2, 26), "tags", []), ((2, 73), "locked_reason", None),
                             ((2, 96), "pinned_availability_zone", None), ((2, 100), "scheduler_hints", {})):
        if mv >= step:
            body[key] = value
    if mv >= (2, 98):
        body["image"]["properties"] = {}


def compute_services(model: LabModel) -> dict[str, NovaService]:
    """Host name → its nova-compute service (hypervisors report their service)."""
    return {s.host: s for s in model.services.values() if s.binary == "nova-compute"}


def hypervisor_dict(model: LabModel, host: Host, service: NovaService, mv: MicroVersion, detail: bool,
                    servers: Iterable[Instance] | None = None) -> dict:
    hv = host.hypervisor
    body = {"id": hv.id if mv >= (2, 53) else hv.number, "hypervisor_hostname": host.name,
            "state": service.state, "status": service.status}
    if detail:
        body.update({"hypervisor_type": hv.hypervisor_type, "hypervisor_version": hv.hypervisor_version,
                     "host_ip": host.mgmt_ip,
                     "service": {"host": host.name, "id": service.id if mv >= (2, 53) else service.number,
                                 "disabled_reason": service.disabled_reason}})
        if mv >= (2, 88):
            body["uptime"] = " 08:32:11 up 93 days, 18:25, 1 user, load average: 0.20, 0.12, 0.14"
        else:
            body.update(_capacity(model, host, mv))
    if servers is not None:
        body["servers"] = [{"uuid": i.id, "name": i.libvirt_name} for i in servers]
    return body


def _capacity(model: LabModel, host: Host, mv: MicroVersion) -> dict:
    hv = host.hypervisor
    instances = model.host_instances(host.name)
    flavors = [model.flavors[i.flavor] for i in instances]
    vcpus_used = sum(f.vcpus for f in flavors)
    ram_used = 512 + sum(f.ram for f in flavors)
    disk_used = sum(f.disk for f in flavors)
    cpu_info = {"arch": "x86_64", "model": hv.cpu_model, "vendor": "Intel",
                "topology": {"cells": 2, "sockets": 1, "cores": hv.vcpus // 4, "threads": 2},
                "features": ["pge", "avx", "vmx", "sse4.2"]}
    return {"vcpus": hv.vcpus, "vcpus_used": vcpus_used, "memory_mb": hv.memory_mb, "memory_mb_used": ram_used,
            "local_gb": hv.local_gb, "local_gb_used": disk_used, "free_ram_mb": hv.memory_mb - ram_used,
            "free_disk_gb": hv.local_gb - disk_used, "disk_available_least": hv.local_gb - disk_used,
            "current_workload": 0, "running_vms": len(instances),
            "cpu_info": cpu_info if mv >= (2, 28) else json.dumps(cpu_info)}


def service_dict(service: NovaService, mv: MicroVersion) -> dict:
    body = {"id": service.id if mv >= (2, 53) else service.number, "binary": service.binary, "host": service.host,
            "zone": service.zone, "status": service.status, "state": service.state,
            "updated_at": nova_time(service.updated_at), "disabled_reason": service.disabled_reason}
    if mv >= (2, 11):
        body["forced_down"] = service.forced_down
    return body


def aggregate_dict(aggregate: Aggregate, mv: MicroVersion) -> dict:
    body = {"id": aggregate.id, "name": aggregate.name, "availability_zone": aggregate.availability_zone,
            "hosts": list(aggregate.hosts), "metadata": dict(aggregate.metadata),
            "created_at": nova_time(aggregate.created_at), "updated_at": None, "deleted_at": None, "deleted": False}
    if mv >= (2, 41):
        body["uuid"] = aggregate.uuid
    return body


def zone_dicts(model: LabModel, region: str, detail: bool) -> list[dict]:
    """Compute zones of the region, and with ``detail`` Nova's ``internal`` zone holding the
    controllers' services, each host mapped to its services' state."""
    zones: dict[str, dict[str, dict]] = {z.name: {} for z in model.zones.values() if z.region == region}
    for service in model.services.values():
        if service.region != region or (service.zone == "internal" and not detail):
            continue
        state = {"available": service.status == "enabled", "active": service.state == "up",
                 "updated_at": nova_time(service.updated_at)}
        zones.setdefault(service.zone, {}).setdefault(service.host, {})[service.binary] = state
    return [{"zoneName": name, "zoneState": {"available": True}, "hosts": hosts if detail else None}
            for name, hosts in zones.items()]
