"""Fetchers of a VPP host's switching, from ``vppctl`` (and libvirt for instance vNICs).

Ids (``H`` is the host): vEdge ``H-VPP``; vConnector (bridge domain) ``H-vconnector-<bd
id>``; pNIC ``H-pnic-<VPP interface name>``; OTEP ``H-otep``; instance vNIC
``H-<libvirt domain name>-vhostuser-<MAC>``.
"""

from __future__ import annotations

from collections import Counter

from calipso_core.hoststate import host_state
from calipso_core.scan.context import ScanContext
from calipso_core.types import Document, Fetcher
from calipso_plugins_vpp.hostcli.vxlan import VXLAN_PORT
from calipso_plugins_vpp.state import VppState, runs_vpp, vpp_state

VHOST_USER = "vhostuser"


def vedge_id(host: str) -> str:
    return f"{host}-VPP"


def fetch_vedges(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    if not runs_vpp(ctx, host):
        return []
    state = vpp_state(ctx, host)
    return [{
        "id": vedge_id(host), "name": f"VPP-{host}", "agent_type": "VPP", "binary": state.version.binary,
        "version": state.version.version,
        "ports": {i.name: {"id": str(i.index), "name": i.name, "state": i.state} for i in state.interfaces},
    }]


def member(state: VppState, name: str) -> Document:
    """A bridge-domain member as a vConnector lists it: index, state, MAC, and what the
    interface leads to (a tap's kernel end, a tunnel's remote end, a VLAN's id)."""
    interface, hardware = state.interface.get(name), state.hardware_of.get(name)
    doc: Document = {"name": name, "id": str(interface.index) if interface else None,
                     "state": interface.state if interface else None,
                     "mac_address": hardware.mac if hardware else None}
    if interface is not None and interface.sub_id is not None:
        doc["vlan"] = interface.sub_id
    if (tap := state.tap.get(name)) is not None:
        doc |= {"host_if_name": tap.host_if_name, "host_ns": tap.host_ns, "host_mac_address": tap.host_mac}
    if (tunnel := state.tunnel.get(name)) is not None:
        doc |= {"vni": tunnel.vni, "local_ip": tunnel.src, "remote_ip": tunnel.dst}
    return doc


def fetch_vconnectors(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    if not runs_vpp(ctx, host):
        return []
    state = vpp_state(ctx, host)
    return [{
        "id": f"{host}-vconnector-{bd_id}", "name": f"bridge-domain-{bd_id}", "bd_id": str(bd_id),
        "connector_type": "bridge_domain", "interfaces": {name: member(state, name) for name in members},
        "interfaces_names": list(members),
    } for bd_id, members in sorted(state.bridge_domains.items())]


def fetch_host_pnics(ctx: ScanContext, folder: Document) -> list[Document]:
    host = folder["host"]
    state = vpp_state(ctx, host)
    pnics = []
    for interface in state.pnics:
        hardware = state.hardware_of.get(interface.name)
        address = state.ipv4(interface.name)
        pnics.append({
            "id": f"{host}-pnic-{interface.name}", "name": interface.name, "local_name": interface.name,
            "mac_address": hardware.mac if hardware else None, "state": interface.state,
            "Link detected": hardware.link == "up" if hardware else None,
            "Speed": hardware.link_speed if hardware else None,
            "IP Address": address[0] if address else None, "prefixlen": address[1] if address else None,
            "port_id": str(interface.index),
        })
    return pnics


def fetch_oteps(ctx: ScanContext, vedge: Document) -> list[Document]:
    """The host's vxlan tunnel endpoint: the source address its tunnels share (the most
    common one, should they differ), with the tunnels as ports."""
    host = vedge["host"]
    state = vpp_state(ctx, host)
    if not state.tunnels:
        return []
    address = Counter(t.src for t in state.tunnels).most_common(1)[0][0]
    holder = next((i.name for i in state.interfaces if (state.ipv4(i.name) or ("",))[0] == address), None)
    ports = {t.name: {"name": t.name, "interface": t.name, "type": "vxlan", "vni": t.vni,
                      "options": {"local_ip": t.src, "remote_ip": t.dst, "dst_port": t.dst_port}}
             for t in state.tunnels if t.src == address}
    return [{
        "id": f"{host}-otep", "name": f"{host}-otep", "ip_address": address, "overlay_type": "vxlan",
        "udp_port": state.tunnels[0].dst_port or VXLAN_PORT, "interface": holder, "ports": ports,
    }]


def fetch_instance_vnics(ctx: ScanContext, folder: Document) -> list[Document]:
    """The instance's vhost-user vNICs (libvirt), each with the VPP interface that has its
    MAC (networking-vpp gives the VirtualEthernet interface the port's MAC)."""
    host, instance_id = folder["host"], folder["parent_id"]
    if not runs_vpp(ctx, host):
        return []
    domain = host_state(ctx, host).domains.get(instance_id)
    if domain is None:
        return []
    state = vpp_state(ctx, host)
    by_mac = {h.mac: h.name for h in state.hardware.interfaces if h.mac}
    vnics = []
    for nic in domain.interfaces:
        if nic.type != VHOST_USER or not nic.mac:
            continue
        interface = state.interface.get(by_mac.get(nic.mac, ""))
        vnic_id = f"{host}-{domain.name}-{VHOST_USER}-{nic.mac}"
        vnics.append({
            "id": vnic_id, "name": vnic_id, "vnic_type": "instance_vnic", "vif_type": VHOST_USER,
            "instance_id": instance_id, "mac_address": nic.mac, "source_socket": nic.source.get("path"),
            "vpp_interface": interface.name if interface else None,
            "state": interface.state if interface else None, "data": nic.as_libvirt_dict(),
        })
    return vnics


FETCHERS = [
    Fetcher("vpp.vedges", fetch_vedges, source="cli", description="the host's VPP (show version, show interface)"),
    Fetcher("vpp.vconnectors", fetch_vconnectors, source="cli", description="VPP bridge domains (show mode)"),
    Fetcher("vpp.host_pnics", fetch_host_pnics, source="cli", description="the NICs VPP drives"),
    Fetcher("vpp.oteps", fetch_oteps, source="cli", description="the host's vxlan tunnel endpoint"),
    Fetcher("vpp.instance_vnics", fetch_instance_vnics, source="cli", description="vhost-user vNICs of an instance"),
]
