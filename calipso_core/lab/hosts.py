"""Generating the lab's hosts: roles, NICs, operating system, hypervisors, zones,
aggregates, Nova services and Neutron agents.

Per region of ``n`` hosts: one host does everything when ``n == 1``; a controller that is
also the network node plus computes when ``n == 2``; one controller and one network node
below 20 hosts; else three controllers and 2–8 network nodes. The rest are computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calipso_core.lab.ids import EPOCH, iso
from calipso_core.lab.model import HostState
from calipso_core.lab.records import Agent, Aggregate, AvailabilityZone, Host, Hypervisor, NovaService, OsRelease, Pnic

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

UBUNTU = OsRelease(
    name="Ubuntu", version="22.04.4 LTS (Jammy Jellyfish)", id="ubuntu", id_like="debian", version_id="22.04",
    pretty_name="Ubuntu 22.04.4 LTS", architecture="x86_64", kernel="5.15.0-105-generic",
)
INTEL_OUIS = ("3c:fd:fe", "a0:36:9f", "b4:96:91")
AGENT_TYPES = {
    "OVS": ("Open vSwitch agent", "neutron-openvswitch-agent"),
    "LXB": ("Linux bridge agent", "neutron-linuxbridge-agent"),
    "VPP": ("VPP agent", "vpp-agent"),
}
INTERFACE_DRIVERS = {"OVS": "openvswitch", "LXB": "linuxbridge", "VPP": "linuxbridge"}


def role_plan(count: int) -> list[tuple[str, ...]]:
    """The roles of each of ``count`` hosts of one region."""
    if count == 1:
        return [("controller", "network", "compute")]
    if count == 2:
        return [("controller", "network"), ("compute",)]
    controllers, network_nodes = (1, 1) if count < 20 else (3, min(8, max(2, count // 100)))
    return ([("controller",)] * controllers + [("network",)] * network_nodes
            + [("compute",)] * (count - controllers - network_nodes))


def host_name(roles: tuple[str, ...], index: int, region_index: int, computes: int) -> str:
    prefix = f"r{region_index + 1}-" if region_index else ""
    if roles == ("controller", "network", "compute"):
        return f"{prefix}allinone-{index}"
    if "compute" in roles:
        return f"{prefix}compute-{index:0{max(4, len(str(computes)))}d}"
    return f"{prefix}{roles[0]}-{index}"


def zone_names(region_index: int, computes: int) -> list[str]:
    prefix = f"r{region_index + 1}-" if region_index else ""
    if computes < 4:
        return [f"{prefix}nova"]
    return [f"{prefix}az-{i + 1}" for i in range(min(4, max(2, computes // 100)))]


def make_pnics(model: LabModel, roles: tuple[str, ...], serial: int, mgmt_ip: str,
               tunnel_ip: str | None) -> tuple[tuple[Pnic, ...], str, str | None]:
    """The NICs of one host, the name of its data NIC and of its external NIC (if any).
    Every third host (not with VPP, which drives the NICs itself) bonds two data NICs."""
    oui = INTEL_OUIS[serial % len(INTEL_OUIS)]
    mac = model.ids.mac
    nics = [Pnic("eno1", mac(oui), "management", speed_mbps=1000, ip=mgmt_ip, prefixlen=16,
                 pci="0000:02:00.0", driver="igb")]
    bonded = serial % 3 == 0 and model.spec.mechanism_driver != "VPP"
    if bonded:
        first, second = mac(oui), mac(oui)
        nics += [Pnic("ens1f0", first, "data", pci="0000:05:00.0", bond="bond0"),
                 Pnic("ens1f1", second, "data", pci="0000:05:00.1", bond="bond0"),
                 Pnic("bond0", first, "data", kind="bond", speed_mbps=20000, ip=tunnel_ip, prefixlen=16,
                      driver="bonding", members=("ens1f0", "ens1f1"))]
        data_nic = "bond0"
    else:
        nics.append(Pnic("ens1f0", mac(oui), "data", ip=tunnel_ip, prefixlen=16, pci="0000:05:00.0"))
        data_nic = "ens1f0"
    external_nic = None
    if "network" in roles:
        nics.append(Pnic("ens2f0", mac(oui), "external", pci="0000:06:00.0"))
        external_nic = "ens2f0"
    return tuple(nics), data_nic, external_nic


def add_region_hosts(model: LabModel, region: str, region_index: int, count: int) -> None:
    """Create the hosts of one region with their zones, aggregates, services and agents."""
    plan = role_plan(count)
    computes = sum(1 for roles in plan if "compute" in roles)
    zones = zone_names(region_index, computes)
    for zone in zones:
        model.zones[zone] = AvailabilityZone(zone, region)
    counters: dict[str, int] = {}
    compute_index = 0
    for i, roles in enumerate(plan):
        kind = "compute" if "compute" in roles else roles[0]
        counters[kind] = counters.get(kind, 0) + 1
        name = host_name(roles, counters[kind], region_index, computes)
        zone = zones[compute_index * len(zones) // max(computes, 1)] if "compute" in roles else "internal"
        if "compute" in roles:
            compute_index += 1
        add_host(model, name, region, region_index, i, roles, zone)
    add_aggregates(model, region, zones)


def add_host(model: LabModel, name: str, region: str, region_index: int, index: int,
             roles: tuple[str, ...], zone: str) -> Host:
    serial = len(model.hosts)
    octets = f"{region_index * 128 + index // 200}.{index % 200 + 10}"
    mgmt_ip = f"192.168.{octets}"
    switching = "network" in roles or "compute" in roles
    tunnel_ip = f"172.16.{octets}" if switching and model.spec.type_driver == "vxlan" else None
    pnics, data_nic, external_nic = make_pnics(model, roles, serial, mgmt_ip, tunnel_ip)
    hypervisor = None
    if "compute" in roles:
        size = serial % 3
        hypervisor = Hypervisor(id=model.ids.uuid(), number=len(model.hosts) + 1, hypervisor_type="QEMU",
                                hypervisor_version=6002000, vcpus=(32, 48, 64)[size],
                                memory_mb=(131072, 196608, 262144)[size], local_gb=1787,
                                cpu_model="Cascadelake-Server")
    host = Host(name=name, region=region, zone=zone, roles=roles, mgmt_ip=mgmt_ip, tunnel_ip=tunnel_ip, os=UBUNTU,
                pnics=pnics, data_nic=data_nic, external_nic=external_nic, hypervisor=hypervisor,
                started_at=iso(EPOCH))
    model.hosts[name] = host
    model.host_state[name] = HostState()
    add_services(model, host)
    add_agents(model, host)
    return host


def add_services(model: LabModel, host: Host) -> None:
    binaries = []
    if "controller" in host.roles:
        binaries += [("nova-conductor", "internal"), ("nova-scheduler", "internal")]
    if "compute" in host.roles:
        binaries.append(("nova-compute", host.zone))
    for binary, zone in binaries:
        service = NovaService(id=model.ids.uuid(), number=len(model.services) + 1, binary=binary, host=host.name,
                              zone=zone, region=host.region, updated_at=iso(EPOCH))
        model.services[service.id] = service


def add_agents(model: LabModel, host: Host) -> None:
    driver = model.spec.mechanism_driver
    if "network" in host.roles or "compute" in host.roles:
        agent_type, binary = AGENT_TYPES[driver]
        _agent(model, host, agent_type, binary, "N/A", None, l2_configuration(model, host))
    if "network" in host.roles:
        _agent(model, host, "DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "nova", {
            "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq", "dhcp_lease_duration": 86400,
            "log_agent_heartbeats": False, "notifies_port_ready": True})
        _agent(model, host, "L3 agent", "neutron-l3-agent", "l3_agent", "nova", {
            "agent_mode": "legacy", "floating_ips": 0, "gateway_external_network_id": "",
            "handle_internal_only_routers": True, "interface_driver": INTERFACE_DRIVERS[driver],
            "log_agent_heartbeats": False})
        _agent(model, host, "Metadata agent", "neutron-metadata-agent", "N/A", None, {
            "log_agent_heartbeats": False, "metadata_proxy_socket": "/var/lib/neutron/metadata_proxy",
            "nova_metadata_host": host.mgmt_ip, "nova_metadata_port": 8775})


def l2_configuration(model: LabModel, host: Host) -> dict[str, Any]:
    """The static ``configurations`` of a host's L2 agent (``devices`` is counted later)."""
    vxlan = model.spec.type_driver == "vxlan"
    driver = model.spec.mechanism_driver
    config: dict[str, Any] = {"devices": 0, "extensions": [], "l2_population": False,
                              "tunnel_types": ["vxlan"] if vxlan else []}
    if vxlan:
        config["tunneling_ip"] = host.tunnel_ip
    if driver == "OVS":
        mappings = {} if vxlan else {"physnet1": "br-prv"}
        if host.external_nic:
            mappings["external"] = "br-ex"
        config.update(bridge_mappings=mappings, integration_bridge="br-int", tunnel_bridge="br-tun",
                      datapath_type="system", ovs_hybrid_plug=True, arp_responder_enabled=False,
                      enable_distributed_routing=False, in_distributed_mode=False, log_agent_heartbeats=False)
    else:
        interfaces = {} if vxlan else {"physnet1": host.data_nic}
        if host.external_nic:
            interfaces["external"] = host.external_nic
        config.update(bridge_mappings={}, interface_mappings=interfaces)
    return config


def _agent(model: LabModel, host: Host, agent_type: str, binary: str, topic: str, zone: str | None,
           configurations: dict[str, Any]) -> None:
    agent = Agent(id=model.ids.uuid(), agent_type=agent_type, binary=binary, host=host.name, topic=topic,
                  availability_zone=zone, configurations=configurations, created_at=iso(EPOCH))
    model.agents[agent.id] = agent


def add_aggregates(model: LabModel, region: str, zones: list[str]) -> None:
    """One aggregate per named zone (Nova's default ``nova`` zone has none) and an ``ssd``
    aggregate over every fourth compute host."""
    computes = model.hosts_with_role("compute", region)
    for zone in zones:
        if zone.endswith("nova"):
            continue
        hosts = tuple(h.name for h in computes if h.zone == zone)
        _aggregate(model, region, zone, zone, hosts, {"availability_zone": zone})
    ssd = tuple(h.name for h in computes[::4])
    prefix = region.lower()
    _aggregate(model, region, f"{prefix}-ssd", None, ssd, {"disk": "ssd"})


def _aggregate(model: LabModel, region: str, name: str, zone: str | None, hosts: tuple[str, ...],
               metadata: dict[str, str]) -> None:
    number = len(model.aggregates) + 1
    model.aggregates[number] = Aggregate(id=number, uuid=model.ids.uuid(), name=name, region=region,
                                         availability_zone=zone, hosts=hosts, metadata=metadata,
                                         created_at=iso(EPOCH))
