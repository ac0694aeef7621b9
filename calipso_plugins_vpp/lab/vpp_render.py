"""The records ``vppctl`` prints for a lab host, built from the host's VPP view
(``calipso_core.lab.switching_vpp``) as VPP 23.10 would show them.

As networking-vpp does, a vhost-user interface carries its Neutron port's MAC, and a tap's
kernel end (the namespace device) the port's MAC too; VPP's own end of a tap and its
vxlan tunnels have a locally administered MAC. Counters are made up but stable.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from calipso_core.lab.switching import HostSwitching, derived_mac
from calipso_core.lab.switching_vpp import VppInterface, vpp_interface_name
from calipso_plugins_vpp.hostcli.address import InterfaceAddresses, L2Bridge, L3Address
from calipso_plugins_vpp.hostcli.hardware import HwInterface
from calipso_plugins_vpp.hostcli.interface import SwInterface
from calipso_plugins_vpp.hostcli.mode import BRIDGE, InterfaceMode
from calipso_plugins_vpp.hostcli.tap import TapInterface
from calipso_plugins_vpp.hostcli.vxlan import VxlanTunnel

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

NO_MAC = "00:00:00:00:00:00"
L3_MTU = 9000
QUEUES = ("  RX Queues:", "    queue thread         mode      ", "    0     main (0)       polling   ")
TAP_FEATURES = ("  features 0x110008000", "    VIRTIO_NET_F_MRG_RXBUF (15)", "    VIRTIO_RING_F_INDIRECT_DESC (28)",
                "    VIRTIO_F_VERSION_1 (32)")


def interface_mac(model: LabModel, view: HostSwitching, interface: VppInterface) -> str:
    """The MAC VPP shows for an interface: a vhost-user interface has its port's."""
    port = model.ports.get(interface.port_id) if interface.port_id else None
    if interface.kind == "vhost" and port is not None:
        return port.mac
    if interface.mac == NO_MAC and interface.kind != "local":
        return derived_mac(interface.name, view.host.name)
    return interface.mac


def counters(host: str, interface: VppInterface) -> tuple[tuple[str, int], ...]:
    if interface.state != "up" or interface.kind == "local":
        return ()
    seed = zlib.crc32(f"{host}/{interface.name}".encode())
    rx, tx = 1000 + seed % 900_000, 1000 + (seed // 7) % 900_000
    return ("rx packets", rx), ("rx bytes", rx * 98), ("tx packets", tx), ("tx bytes", tx * 102)


def sw_interfaces(view: HostSwitching) -> list[SwInterface]:
    """``show interface``: every interface, sorted by name (sub-interfaces after their parent)."""
    found = []
    for interface in view.vpp.interfaces:
        mtu = (0, 0, 0, 0) if interface.kind in ("local", "vxlan") else (L3_MTU, 0, 0, 0)
        found.append(SwInterface(interface.name, interface.sw_if_index, interface.state, mtu,
                                 counters(view.host.name, interface)))
    return sorted(found, key=lambda i: (i.name.split(".", 1)[0], i.index))


def hardware_indexes(view: HostSwitching) -> dict[str, int]:
    """Hardware interface indexes: sub-interfaces have none, so they run behind sw indexes."""
    hardware = [i.name for i in view.vpp.interfaces if i.kind != "subif"]
    return {name: index for index, name in enumerate(hardware)}


def hw_interfaces(model: LabModel, view: HostSwitching) -> list[HwInterface]:
    """``show hardware-interfaces``: the interfaces that are devices, sorted by name."""
    indexes = hardware_indexes(view)
    found = []
    for interface in view.vpp.interfaces:
        if interface.kind == "subif":
            continue
        link = "up" if interface.state == "up" else "down"
        found.append(HwInterface(interface.name, indexes[interface.name], link, interface.name,
                                 hw_details(model, view, interface)))
    return sorted(found, key=lambda i: i.name)


def hw_details(model: LabModel, view: HostSwitching, interface: VppInterface) -> tuple[str, ...]:
    mac = f"  Ethernet address {interface_mac(model, view, interface)}"
    if interface.kind == "local":
        return "  Link speed: unknown", "  local"
    if interface.kind == "ethernet":
        nic = next((p for p in view.host.pnics if p.pci and vpp_interface_name(p) == interface.name), None)
        speed = nic.speed_mbps if nic else 10000
        return ("  Link speed: " + (f"{speed // 1000} Gbps" if speed >= 1000 else f"{speed} Mbps"), *QUEUES, mac,
                "  Intel 82599", f"    carrier up full duplex mtu {L3_MTU} ",
                "    flags: admin-up pmd maybe-multiseg tx-offload intel-phdr-cksum rx-ip4-cksum",
                "    rx: queues 1 (max 128), desc 1024 (min 32 max 4096 align 8)",
                "    tx: queues 1 (max 64), desc 1024 (min 32 max 4096 align 8)",
                f"    pci: device 8086:10fb subsystem 8086:0003 address {nic.pci if nic else ''} numa 0")
    if interface.kind == "tap":
        return "  Link speed: unknown", *QUEUES, mac, "  VIRTIO interface", f"     instance {interface.name[3:]}"
    if interface.kind == "vxlan":
        return "  Link speed: unknown", mac, "  VXLAN"
    return "  Link speed: unknown", *QUEUES, mac, "  vhost-user interface"


def bridge_of(view: HostSwitching) -> dict[str, tuple[int, int]]:
    """Member interface → (bridge-domain id, bridge-domain index)."""
    return {member: (bd.bd_id, position) for position, bd in enumerate(view.vpp.bridge_domains, start=1)
            for member in bd.members}


def modes(view: HostSwitching) -> list[InterfaceMode]:
    """``show mode``: interfaces in index order, bridge-domain members in l2 bridge mode."""
    bridges = bridge_of(view)
    return [InterfaceMode(i.name, BRIDGE, bridges[i.name][0], 0) if i.name in bridges else InterfaceMode(i.name)
            for i in view.vpp.interfaces]


def addresses(view: HostSwitching) -> list[InterfaceAddresses]:
    """``show interface address``: sorted by name, each with its bridge domain or address."""
    bridges = bridge_of(view)
    found = []
    for interface in sorted(view.vpp.interfaces, key=lambda i: i.name):
        bridge = L2Bridge(*bridges[interface.name]) if interface.name in bridges else None
        address = (L3Address(interface.ip, interface.prefixlen or 32),) if interface.ip else ()
        found.append(InterfaceAddresses(interface.name, interface.state == "up", bridge, addresses=address))
    return found


def tunnels(view: HostSwitching) -> list[VxlanTunnel]:
    """``show vxlan tunnel``: one line per tunnel, named ``vxlan_tunnel<instance>``."""
    indexes = {i.name: i.sw_if_index for i in view.vpp.interfaces}
    return [VxlanTunnel(number, number, t.src, t.dst, t.vni, indexes[t.name], encap_dpo_index=10 + number)
            for number, t in enumerate(view.vpp.tunnels)]


def taps(model: LabModel, view: HostSwitching) -> list[TapInterface]:
    """``show tap``: each tap with its kernel end (the namespace device) and virtio state."""
    indexes = hardware_indexes(view)
    found = []
    for interface in view.vpp.interfaces:
        port = model.ports.get(interface.port_id) if interface.port_id else None
        if interface.kind != "tap" or port is None:
            continue
        namespace = f"qdhcp-{port.network_id}" if port.device_owner == "network:dhcp" else f"qrouter-{port.device_id}"
        network = model.networks.get(port.network_id)
        number = int(interface.name.removeprefix("tap"))
        fd = 20 + 3 * number
        found.append(TapInterface(interface.name, indexes[interface.name], (
            f'  name "{interface.host_if}"', f'  host-ns "{namespace}"',
            f'  host-mtu-size "{network.mtu if network else 1500}"', f"  host-mac-addr: {port.mac}",
            "  host-carrier-up: 1", f"  vhost-fds {fd}", f"  tap-fds {fd + 1}", "  gso-enabled 0",
            "  csum-enabled 0", "  packet-coalesce 0", "  packet-buffering 0",
            f"  Mac Address: {interface_mac(model, view, interface)}", f"  Device instance: {number}",
            "  flags 0x1", "    admin-up (0)", *TAP_FEATURES, "  Number of RX Virtqueue  1",
            "  Number of TX Virtqueue  1", "  Virtqueue (RX) 0",
            "    qsz 256, last_used_idx 0, desc_next 0, desc_in_use 0",
            "    avail.flags 0x1 avail.idx 256 used.flags 0x0 used.idx 0", f"    kickfd {fd + 2}, callfd -1",
            "  Virtqueue (TX) 1", "    qsz 256, last_used_idx 0, desc_next 0, desc_in_use 0",
            "    avail.flags 0x1 avail.idx 0 used.flags 0x0 used.idx 0", f"    kickfd {fd + 3}, callfd -1",
        )))
    return found
