"""Fetchers whose data comes from the hosts over SSH: vNICs, vServices, pNICs,
vConnectors (Linux bridges), vEdges (Open vSwitch) and OTEPs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from calipso_core.hostcli.brctl import BRCTL_SHOW, Bridge, parse_brctl_show
from calipso_core.hostcli.ip_link import Interface
from calipso_core.hoststate import HostState, host_outputs, host_state
from calipso_core.scan.context import ScanContext
from calipso_core.types import Document, Fetcher
from calipso_plugins_openstack.api import by_id, collection, grouped
from calipso_plugins_openstack.hostcli.ovs_dpctl import OVS_DPCTL_SHOW, Datapath, parse_ovs_dpctl_show
from calipso_plugins_openstack.hostcli.ovs_vsctl import OVS_VSCTL_SHOW, OvsSwitch, parse_ovs_vsctl_show

VXLAN_PORT = 4789
LXB_VXLAN_PORT = 8472


@dataclass
class SwitchState:
    bridges: tuple[Bridge, ...]
    ovs: OvsSwitch | None = None
    datapaths: tuple[Datapath, ...] = ()


def switch_commands(ctx: ScanContext, region: str, host: str) -> list[str]:
    """``brctl show`` and, on hosts with an Open vSwitch agent, ``ovs-vsctl show`` and
    ``ovs-dpctl show``."""
    ovs = ovs_agent(ctx, region, host) is not None
    return [BRCTL_SHOW, OVS_VSCTL_SHOW, OVS_DPCTL_SHOW] if ovs else [BRCTL_SHOW]


def switch_state(ctx: ScanContext, region: str, host: str) -> SwitchState:
    """The host's Linux bridges and Open vSwitch (see ``switch_commands``), read once per
    scan; gathered with the host's state when the hosts fetcher asked for it."""

    def gather() -> SwitchState:
        out = host_outputs(ctx, host, switch_commands(ctx, region, host))
        if OVS_VSCTL_SHOW not in out:
            return SwitchState(parse_brctl_show(out[BRCTL_SHOW]))
        return SwitchState(parse_brctl_show(out[BRCTL_SHOW]), parse_ovs_vsctl_show(out[OVS_VSCTL_SHOW]),
                           parse_ovs_dpctl_show(out[OVS_DPCTL_SHOW]))

    return ctx.cached(("switchstate", host), gather)


def vnic_fields(interface: Interface) -> Document:
    ipv4, ipv6 = interface.ipv4, interface.ipv6
    return {
        "mac_address": interface.mac,
        "IP Address": ipv4[0].address if ipv4 else None,
        "netmask": ipv4[0].netmask if ipv4 else None,
        "IPv6 Address": ipv6[0].address if ipv6 else None,
        "state": interface.state,
        "mtu": interface.mtu,
    }


def fetch_instance_vnics(ctx: ScanContext, folder: Document) -> list[Document]:
    host, instance_id = folder["host"], folder["parent_id"]
    domain = host_state(ctx, host).domains.get(instance_id)
    if domain is None:
        return []
    return [{
        "id": f"{host}-{nic.target_dev}", "name": nic.target_dev, "vnic_type": "instance_vnic",
        "instance_id": instance_id, "mac_address": nic.mac, "source_bridge": nic.source_bridge,
        "port_id": nic.interface_id, "data": nic.as_libvirt_dict(),
    } for nic in domain.interfaces if nic.target_dev]


def namespaces(state: HostState, prefix: str) -> list[str]:
    return sorted(ns for ns in state.namespaces if ns.startswith(prefix))


def fetch_dhcp_vservices(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    networks = by_id(ctx, "networks", folder["region"])
    services = []
    for ns in namespaces(host_state(ctx, host), "qdhcp-"):
        network_id = ns.removeprefix("qdhcp-")
        name = networks.get(network_id, {}).get("name", network_id)
        services.append({"id": f"{host}-{ns}", "name": f"qdhcp-{name}", "local_service_id": ns,
                         "service_type": "dhcp", "network": [network_id]})
    return services


def fetch_router_vservices(ctx: ScanContext, folder: Document) -> list[Document]:
    host, region = folder["host"], folder["region"]
    routers = by_id(ctx, "routers", region)
    router_ports = grouped(ctx, "ports", "device_id", region)
    services = []
    for ns in namespaces(host_state(ctx, host), "qrouter-"):
        router_id = ns.removeprefix("qrouter-")
        router = routers.get(router_id, {})
        gateway = router.get("external_gateway_info") or {}
        services.append({
            "id": f"{host}-{ns}", "name": f"qrouter-{router.get('name', router_id)}", "local_service_id": ns,
            "service_type": "router", "router_id": router_id, "admin_state_up": router.get("admin_state_up"),
            "status": router.get("status"), "external_gateway_info": gateway or None,
            "gw_port_id": router.get("gw_port_id"),
            "network": sorted({p["network_id"] for p in router_ports.get(router_id, [])}),
        })
    return services


def network_of(ctx: ScanContext, region: str, address: str | None) -> tuple[str | None, str | None]:
    """The network and cidr of the subnet holding ``address``."""
    if not address:
        return None, None
    ip = ipaddress.ip_address(address)
    for subnet in collection(ctx, "subnets", region):
        if ip in ipaddress.ip_network(subnet["cidr"], strict=False):
            return subnet["network_id"], subnet["cidr"]
    return None, None


def fetch_vservice_vnics(ctx: ScanContext, folder: Document) -> list[Document]:
    host, vservice_id = folder["host"], folder["parent_id"]
    ns = vservice_id.removeprefix(f"{host}-")
    vnics = []
    for interface in host_state(ctx, host).namespaces.get(ns, ()):
        if interface.name == "lo" or interface.link_type == "loopback":
            continue
        fields = vnic_fields(interface)
        network, cidr = network_of(ctx, folder["region"], fields["IP Address"])
        vnics.append({"id": f"{host}-{interface.name}", "name": interface.name, "vnic_type": "vservice_vnic",
                      "vservice_id": vservice_id, "network": network, "cidr": cidr, **fields})
    return vnics


def fetch_host_pnics(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    state = host_state(ctx, host)
    pnics = []
    for name in state.physical:
        interface = state.interfaces[name]
        ethtool = state.ethtool.get(name)
        mac = interface.mac
        if interface.master in state.bonds:
            slave = next((s for s in state.bonds[interface.master].slaves if s.name == name), None)
            mac = (slave.permanent_mac if slave else None) or mac
        pnics.append({
            "id": f"{name}-{mac}", "name": name, "local_name": name, **vnic_fields(interface), "mac_address": mac,
            "Link detected": ethtool.link_detected if ethtool else None,
            "Speed": ethtool.speed if ethtool else None,
            "EtherChannel Master": interface.master if interface.master in state.bonds else None,
        })
    for name, bond in sorted(state.bonds.items()):
        interface = state.interfaces[name]
        members = {s.name: {"name": s.name, "mac_address": s.permanent_mac} for s in bond.slaves}
        pnics.append({
            "id": f"{name}-{interface.mac}", "name": name, "local_name": name, **vnic_fields(interface),
            "EtherChannel": True, "members": members, "mode": bond.mode,
            "Link detected": bond.mii_status == "up",
        })
    return pnics


def fetch_vconnectors(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    interfaces = host_state(ctx, host).interfaces
    return [{
        "id": f"{host}-{bridge.name}", "name": bridge.name, "bridge_name": bridge.name, "bridge_id": bridge.bridge_id,
        "stp_enabled": bridge.stp_enabled, "connector_type": "bridge",
        "interfaces": {i: {"name": i, "mac_address": getattr(interfaces.get(i), "mac", None)}
                       for i in bridge.interfaces},
        "interfaces_names": sorted(bridge.interfaces),
    } for bridge in switch_state(ctx, folder["region"], host).bridges]


def ovs_agent(ctx: ScanContext, region: str, host: str) -> dict | None:
    agents = grouped(ctx, "agents", "host", region).get(host, [])
    return next((a for a in agents if a["agent_type"] == "Open vSwitch agent"), None)


def fetch_ovs_vedges(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    agent = ovs_agent(ctx, folder["region"], host)
    if agent is None:
        return []
    state = switch_state(ctx, folder["region"], host)
    if state.ovs is None:
        return []
    numbers = {port.name: port.number for dp in state.datapaths for port in dp.ports}
    ports, tunnel_ports = {}, {}
    for bridge in state.ovs.bridges:
        for port in bridge.ports:
            interface = port.interfaces[0] if port.interfaces else None
            if interface is not None and interface.type in ("vxlan", "gre", "geneve"):
                tunnel_ports[port.name] = {"name": port.name, "bridge": bridge.name, "type": interface.type,
                                           "options": interface.options}  # parsed, a dict of its own
                continue
            ports[port.name] = {"name": port.name, "id": str(numbers.get(port.name, "")), "bridge": bridge.name,
                                "internal": bool(interface and interface.type == "internal"), "tag": port.tag}
    return [{
        "id": agent["id"], "name": f"{host}-OVS", "agent_type": agent["agent_type"], "binary": agent.get("binary"),
        "configurations": agent.get("configurations", {}), "alive": agent.get("alive"),
        "ports": ports, "tunnel_ports": tunnel_ports,
    }]


def interface_with_address(state: HostState, address: str | None) -> str | None:
    return next((i.name for i in state.interfaces.values() if any(a.address == address for a in i.ipv4)), None)


def fetch_ovs_oteps(ctx: ScanContext, vedge: Document) -> list[Document]:
    """The host's tunnel endpoint. Its tunnels are listed once, as its vEdge's
    ``tunnel_ports``: a copy here would double what grows with the square of the hosts
    (each host has a tunnel to every other; at 400 hosts 80 kB a document)."""
    host = vedge["host"]
    config = vedge.get("configurations", {})
    tunnel_types = config.get("tunnel_types") or []
    if not tunnel_types or not config.get("tunneling_ip"):
        return []
    interface = interface_with_address(host_state(ctx, host), config["tunneling_ip"])
    return [{
        "id": f"{host}-otep", "name": f"{host}-otep", "ip_address": config["tunneling_ip"],
        "overlay_type": tunnel_types[0], "udp_port": VXLAN_PORT, "interface": interface,
        "vconnector": f"{host}-{interface}" if interface else None,
    }]


def fetch_lxb_oteps(ctx: ScanContext, vconnector: Document) -> list[Document]:
    host = vconnector["host"]
    state = host_state(ctx, host)
    oteps = []
    for name in vconnector.get("interfaces_names", []):
        interface = state.interfaces.get(name)
        if interface is None or interface.vxlan is None:
            continue
        vxlan = interface.vxlan
        oteps.append({
            "id": f"{host}-otep-{name}", "name": name, "ip_address": vxlan.local, "overlay_type": "vxlan",
            "segmentation_id": vxlan.vni, "udp_port": vxlan.dstport or LXB_VXLAN_PORT, "mac_address": interface.mac,
            "mtu": interface.mtu, "state": interface.state, "interface": vxlan.dev,
            "vconnector": vconnector["id"],
        })
    return oteps


FETCHERS = [
    Fetcher("openstack.instance_vnics", fetch_instance_vnics, source="cli"),
    Fetcher("openstack.dhcp_vservices", fetch_dhcp_vservices, source="cli"),
    Fetcher("openstack.router_vservices", fetch_router_vservices, source="cli"),
    Fetcher("openstack.vservice_vnics", fetch_vservice_vnics, source="cli"),
    Fetcher("openstack.host_pnics", fetch_host_pnics, source="cli"),
    Fetcher("openstack.vconnectors", fetch_vconnectors, source="cli"),
    Fetcher("openstack.ovs_vedges", fetch_ovs_vedges, source="cli"),
    Fetcher("openstack.ovs_oteps", fetch_ovs_oteps, source="cli"),
    Fetcher("openstack.lxb_oteps", fetch_lxb_oteps, source="cli"),
]
