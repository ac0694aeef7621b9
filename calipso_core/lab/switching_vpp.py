"""The switching view of an FD.io VPP host (networking-vpp style).

VPP drives the data NIC (and a network node's external NIC) itself, so the kernel no
longer lists them; VPP names them after their PCI address (``TenGigabitEthernet5/0/0``).
Each network present on the host is a bridge domain (id held in the host's state) that
holds the ports' ``VirtualEthernet0/0/<n>`` (vhost-user, instances) or ``tap<n>``
(DHCP and router ports, whose other end sits in a namespace), and the network's uplink:
the VLAN sub-interface ``<uplink>.<vlan id>``, the vxlan tunnels to the other hosts on
the network, or the external uplink for the flat external network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from calipso_core.lab.records import Host, Instance, Network, Pnic, Port
from calipso_core.lab.switching import (
    GuestVif,
    HostSwitching,
    base_devices,
    derived_mac,
    guests,
    namespaces,
    network_peers,
    pnic_named,
    running,
)
from calipso_core.lab.switching_lxb import NAMESPACE_PEER

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

VPP_VERSION = "vpp v23.10-release built by root on lab at 2024-01-01T00:00:00"
SPEED_PREFIX = {1000: "GigabitEthernet", 10000: "TenGigabitEthernet", 25000: "TwentyFiveGigabitEthernet"}


@dataclass(frozen=True, slots=True)
class VppInterface:
    """``kind``: local, ethernet, subif, vhost, tap or vxlan."""

    name: str
    sw_if_index: int
    kind: str
    mac: str
    state: str = "up"
    port_id: str | None = None
    ip: str | None = None
    prefixlen: int | None = None
    vlan: int | None = None
    host_if: str | None = None


@dataclass(frozen=True, slots=True)
class VxlanTunnel:
    name: str
    src: str
    dst: str
    vni: int


@dataclass(frozen=True, slots=True)
class BridgeDomain:
    bd_id: int
    network_id: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VppSwitch:
    version: str
    interfaces: tuple[VppInterface, ...]
    bridge_domains: tuple[BridgeDomain, ...]
    tunnels: tuple[VxlanTunnel, ...]


def vpp_interface_name(nic: Pnic) -> str:
    """``0000:05:00.0`` at 10G → ``TenGigabitEthernet5/0/0``."""
    bus, slot_func = nic.pci.split(":")[1:]
    slot, func = slot_func.split(".")
    return f"{SPEED_PREFIX.get(nic.speed_mbps, 'GigabitEthernet')}{int(bus, 16):x}/{int(slot, 16):x}/{int(func, 16):x}"


def vpp_view(model: LabModel, host: Host) -> HostSwitching:
    owned = tuple(n for n in (host.data_nic, host.external_nic) if n)
    devices = tuple(base_devices(model, host, vpp_owned=owned))
    if not ("network" in host.roles or "compute" in host.roles):
        return HostSwitching(host, "VPP", devices, (), (), (), ())
    interfaces = _Interfaces()
    interfaces.add("local0", "local", "00:00:00:00:00:00", state="down")
    uplinks = {}
    for name in owned:
        nic = pnic_named(host, name)
        uplink = vpp_interface_name(nic)
        uplinks[name] = uplink
        tunnel = name == host.data_nic and host.tunnel_ip
        interfaces.add(uplink, "ethernet", nic.mac, ip=host.tunnel_ip if tunnel else None,
                       prefixlen=nic.prefixlen if tunnel else None)
    state = model.host_state[host.name]
    by_network: dict[str, list[Port]] = {}
    for port in model.host_ports(host.name):
        by_network.setdefault(port.network_id, []).append(port)
    domains, tunnels = [], []
    for network_id, ports in by_network.items():
        network = model.networks[network_id]
        members = _uplink_members(model, host, network, uplinks, interfaces, tunnels)
        for port in ports:
            members.append(_port_interface(model, host, port, state.if_numbers[port.id], interfaces))
        domains.append(BridgeDomain(state.local_ids[network_id], network_id, tuple(members)))
    vpp = VppSwitch(VPP_VERSION, tuple(interfaces.items), tuple(domains), tuple(tunnels))
    return HostSwitching(host, "VPP", devices, (), (), namespaces(model, host, "ns-"),
                         guests(model, host, _guest_vif), vpp)


class _Interfaces:
    """VPP's interface table: sw_if_index in creation order."""

    def __init__(self):
        self.items: list[VppInterface] = []

    def add(self, name: str, kind: str, mac: str, **fields) -> str:
        self.items.append(VppInterface(name, len(self.items), kind, mac, **fields))
        return name


def _uplink_members(model: LabModel, host: Host, network: Network, uplinks: dict[str, str],
                    interfaces: _Interfaces, tunnels: list[VxlanTunnel]) -> list[str]:
    if network.network_type == "vlan":
        parent = uplinks[host.data_nic]
        nic = pnic_named(host, host.data_nic)
        return [interfaces.add(f"{parent}.{network.segmentation_id}", "subif", nic.mac, vlan=network.segmentation_id)]
    if network.network_type == "vxlan":
        names = []
        for peer in network_peers(model, host, network.id):
            name = f"vxlan_tunnel{len(tunnels)}"
            tunnels.append(VxlanTunnel(name, host.tunnel_ip or "", peer.tunnel_ip or "", network.segmentation_id or 0))
            names.append(interfaces.add(name, "vxlan", "00:00:00:00:00:00"))
        return names
    return [uplinks[host.external_nic]] if host.external_nic in uplinks else []


def _port_interface(model: LabModel, host: Host, port: Port, number: int, interfaces: _Interfaces) -> str:
    """A vhost-user interface for an instance port (down while the guest is stopped), else
    a tap whose kernel end is the namespace's ``ns-``/``qr-``/``qg-`` device."""
    if port.device_owner.startswith("compute:"):
        name = f"VirtualEthernet0/0/{number}"
        return interfaces.add(name, "vhost", derived_mac(name, host.name), port_id=port.id,
                              state="up" if running(model, port) else "down")
    return interfaces.add(f"tap{number}", "tap", derived_mac(f"tap{number}", host.name), port_id=port.id,
                          host_if=NAMESPACE_PEER.get(port.device_owner, "tap") + port.short_id)


def _guest_vif(port: Port, instance: Instance) -> GuestVif:
    return GuestVif(port.id, port.mac, "vhostuser", f"/tmp/{port.id}", None)
