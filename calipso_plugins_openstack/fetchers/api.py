"""Fetchers whose data comes from the OpenStack APIs (Keystone, Nova, Neutron)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from calipso_core.errors import CalipsoError
from calipso_core.hoststate import host_state
from calipso_core.scan.context import ScanContext
from calipso_core.scan.tree import condition_met
from calipso_core.types import Document, Fetcher
from calipso_plugins_openstack.api import by_id, collection, grouped
from calipso_plugins_openstack.fetchers.host import switch_commands
from calipso_plugins_openstack.scanners import OVS_LXB

SERVICE_PROJECTS = {"service", "services"}
INTERNAL_ZONE = "internal"
NETWORK_AGENTS = {"DHCP agent", "L3 agent", "Metadata agent"}


def fetch_regions(ctx: ScanContext, parent: Document) -> list[Document]:
    return [{"id": r["id"], "name": r["id"], "region": r["id"], "description": r.get("description", "")}
            for r in collection(ctx, "regions")]


def fetch_projects(ctx: ScanContext, parent: Document) -> list[Document]:
    return [{"id": p["id"], "name": p["name"], "description": p.get("description", ""),
             "domain_id": p.get("domain_id"), "enabled": p.get("enabled", True)}
            for p in collection(ctx, "projects") if p["name"] not in SERVICE_PROJECTS]


def fetch_aggregates(ctx: ScanContext, folder: Document) -> list[Document]:
    return [{"id": str(a["id"]), "name": a["name"], "availability_zone": a.get("availability_zone"),
             "metadata": a.get("metadata", {}), "hosts": sorted(a.get("hosts", []))}
            for a in collection(ctx, "aggregates", folder["region"])]


def fetch_aggregate_hosts(ctx: ScanContext, aggregate: Document) -> list[Document]:
    return [{"id": f"aggregate-{aggregate['name']}-{host}", "name": host, "ref_id": host}
            for host in aggregate.get("hosts", [])]


def host_zones(ctx: ScanContext, region: str) -> dict[str, str]:
    """Each host's availability zone: the zone of its nova-compute, else ``internal``."""

    def zones():
        found: dict[str, str] = {}
        for zone in collection(ctx, "availability_zones", region):
            for host, services in (zone.get("hosts") or {}).items():
                if "nova-compute" in services or host not in found:
                    found[host] = zone["zoneName"]
        for agent in collection(ctx, "agents", region):
            found.setdefault(agent["host"], INTERNAL_ZONE)
        return found

    return ctx.cached(("openstack", "host-zones", region), zones)


def fetch_availability_zones(ctx: ScanContext, folder: Document) -> list[Document]:
    region = folder["region"]
    names = sorted(set(host_zones(ctx, region).values()))
    available = {z["zoneName"]: z.get("zoneState", {}).get("available", True)
                 for z in collection(ctx, "availability_zones", region)}
    return [{"id": name, "name": name, "available": available.get(name, True)} for name in names]


def host_types(services: list[dict], agents: list[dict]) -> list[str]:
    binaries = {s["binary"] for s in services if s.get("state", "up") == "up"}
    types = []
    if binaries & {"nova-conductor", "nova-scheduler"}:
        types.append("Controller")
    if "nova-compute" in binaries:
        types.append("Compute")
    if {a["agent_type"] for a in agents} & NETWORK_AGENTS:
        types.append("Network")
    return types


def fetch_hosts(ctx: ScanContext, zone: Document) -> list[Document]:
    region = zone["region"]
    services = grouped(ctx, "services", "host", region)
    agents = grouped(ctx, "agents", "host", region)
    hypervisors = {h["hypervisor_hostname"]: h for h in collection(ctx, "hypervisors", region)}
    hosts = []
    for name, zone_name in sorted(host_zones(ctx, region).items()):
        if zone_name != zone["id"]:
            continue
        hypervisor = hypervisors.get(name, {})
        hosts.append({
            "id": name, "name": name, "host": name, "zone": zone_name,
            "host_type": host_types(services.get(name, []), agents.get(name, [])),
            "services": {s["binary"]: {"state": s.get("state"), "status": s.get("status")}
                         for s in services.get(name, [])},
            "ip_address": hypervisor.get("host_ip"),
            "config": {a["agent_type"]: a.get("configurations", {}) for a in agents.get(name, [])},
        })
    for host in hosts:  # later fetchers decide by host type what to ask a host
        ctx.cached(("host_type", host["id"]), lambda types=host["host_type"]: types)
    switching = condition_met(OVS_LXB, ctx.environment)  # the hosts' switches are read too: ask now

    def os_release(host: str) -> dict | None:
        return os_of(ctx, host, switch_commands(ctx, region, host) if switching else ())

    pool = ctx.client("openstack.hosts", lambda ctx: _HostPool(ctx.settings.get("concurrency", 8)))
    for host, release in zip(hosts, pool.map(os_release, [h["id"] for h in hosts]), strict=True):
        host["OS"] = release
    return hosts


class _HostPool(ThreadPoolExecutor):
    """The threads that ask hosts for their state, one pool for every zone's hosts: the
    scan's concurrency bounds them all (a pool per zone gave each zone that many)."""

    def __init__(self, workers: int):
        super().__init__(workers, thread_name_prefix="scan-hosts")

    def close(self) -> None:
        self.shutdown(wait=True, cancel_futures=True)


def os_of(ctx: ScanContext, host: str, also: Sequence[str] = ()) -> dict | None:
    """What the host's /etc/os-release says (``also``: more commands for the same round
    trip, see ``host_state``); None (reported by the host's own fetchers) when the host
    cannot be asked."""
    try:
        release = host_state(ctx, host, also).os_release
    except CalipsoError:
        return None
    return {"name": release.name, "version": release.version, "ID": release.id, "ID_LIKE": release.id_like,
            "architecture": release.architecture}


def network_names(ctx: ScanContext, region: str) -> dict[str, str]:
    return {net_id: net["name"] for net_id, net in by_id(ctx, "networks", region).items()}


def fetch_instances(ctx: ScanContext, folder: Document) -> list[Document]:
    region = folder["region"]
    projects = by_id(ctx, "projects")
    ports = grouped(ctx, "ports", "device_id", region)
    names = network_names(ctx, region)
    subnets = by_id(ctx, "subnets", region)
    instances = []
    for server in grouped(ctx, "servers", "OS-EXT-SRV-ATTR:host", region).get(folder["host"], []):
        server_ports = sorted(ports.get(server["id"], []), key=lambda p: p["mac_address"])
        network_info = [{
            "id": port["id"], "address": port["mac_address"], "devname": f"tap{port['id'][:11]}",
            "network": {"id": port["network_id"], "label": names.get(port["network_id"]),
                        "subnets": [{"cidr": subnets[ip["subnet_id"]]["cidr"], "ips": [{"address": ip["ip_address"]}]}
                                    for ip in port.get("fixed_ips", []) if ip["subnet_id"] in subnets]},
        } for port in server_ports]
        project = projects.get(server.get("tenant_id"), {})
        instances.append({
            "id": server["id"], "uuid": server["id"], "name": server["name"], "host": folder["host"],
            "local_name": server.get("OS-EXT-SRV-ATTR:instance_name"),
            "project_id": server.get("tenant_id"), "projects": [project["name"]] if project else [],
            "status": server.get("status"), "vm_state": server.get("OS-EXT-STS:vm_state"),
            "power_state": server.get("OS-EXT-STS:power_state"),
            "network_info": network_info, "network": sorted({p["network_id"] for p in server_ports}),
            "mac_address": [p["mac_address"] for p in server_ports],
        })
    return instances


def network_document(net: dict, subnets: dict[str, dict], projects: dict[str, dict]) -> Document:
    own = [subnets[s] for s in net.get("subnets", []) if s in subnets]
    project = projects.get(net.get("project_id") or net.get("tenant_id"), {})
    fields = ("status", "admin_state_up", "shared", "router:external", "mtu", "provider:network_type",
              "provider:segmentation_id", "provider:physical_network", "project_id")
    return {
        "id": net["id"], "name": net["name"], "network": net["id"], "project": project.get("name"),
        **{k: net.get(k) for k in fields},
        "subnet_ids": sorted(s["id"] for s in own),
        "cidrs": sorted(s["cidr"] for s in own),
        "subnets": {s["name"] or s["id"]: {k: s.get(k) for k in ("id", "cidr", "gateway_ip", "enable_dhcp",
                                                                   "ip_version", "allocation_pools")} for s in own},
    }


def fetch_networks(ctx: ScanContext, folder: Document) -> list[Document]:
    projects = by_id(ctx, "projects")
    project_id = folder["parent_id"]
    networks = []
    for region in (r["id"] for r in collection(ctx, "regions")):
        subnets = by_id(ctx, "subnets", region)
        networks += [{**network_document(net, subnets, projects), "region": region}
                     for net in collection(ctx, "networks", region)
                     if (net.get("project_id") or net.get("tenant_id")) == project_id]
    return networks


def fetch_ports(ctx: ScanContext, folder: Document) -> list[Document]:
    fields = ("network_id", "device_id", "device_owner", "mac_address", "fixed_ips", "status", "admin_state_up",
              "binding:host_id", "binding:vif_type", "binding:vnic_type", "project_id")
    return [{"id": port["id"], "name": port["mac_address"], "port_name": port.get("name", ""),
             **{k: port.get(k) for k in fields}}
            for port in grouped(ctx, "ports", "network_id", folder["region"]).get(folder["parent_id"], [])]


def fetch_network_agents(ctx: ScanContext, folder: Document) -> list[Document]:
    return [{"id": f"{a['binary']}-{a['id']}", "name": a["binary"], "agent_id": a["id"],
             **{k: a.get(k) for k in ("agent_type", "binary", "topic", "alive", "admin_state_up", "configurations")}}
            for a in grouped(ctx, "agents", "host", folder["region"]).get(folder["host"], [])]


FETCHERS = [
    Fetcher("openstack.regions", fetch_regions),
    Fetcher("openstack.projects", fetch_projects),
    Fetcher("openstack.aggregates", fetch_aggregates),
    Fetcher("openstack.aggregate_hosts", fetch_aggregate_hosts),
    Fetcher("openstack.availability_zones", fetch_availability_zones),
    Fetcher("openstack.hosts", fetch_hosts),
    Fetcher("openstack.instances", fetch_instances),
    Fetcher("openstack.networks", fetch_networks),
    Fetcher("openstack.ports", fetch_ports),
    Fetcher("openstack.network_agents", fetch_network_agents),
]
