"""The switching view of a Linux bridge host, as the Linux bridge agent sets it up.

One ``brq<network id[:11]>`` per network with a port on the host. Its members: the
``tap<port id[:11]>`` of each port (a guest's tun device, or the host end of the veth
whose other end, ``ns-``/``qr-``/``qg-``, sits in a namespace), and the network's uplink:
``vxlan-<vni>`` on the data NIC, the VLAN sub-interface ``<data nic>.<vlan id>``, or for
the flat external network the external NIC itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calipso_core.lab.records import Host, Instance, Network, Port
from calipso_core.lab.switching import (
    BridgeMember,
    Device,
    GuestVif,
    HostSwitching,
    LinuxBridge,
    base_devices,
    derived_mac,
    enslave,
    guests,
    namespaces,
    running,
    tap_mac,
)

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

NAMESPACE_PEER = {"network:dhcp": "ns-", "network:router_interface": "qr-", "network:router_gateway": "qg-"}


def bridge_name(network_id: str) -> str:
    return "brq" + network_id[:11]


def lxb_view(model: LabModel, host: Host) -> HostSwitching:
    devices = base_devices(model, host)
    bridges = []
    by_network: dict[str, list[Port]] = {}
    for port in model.host_ports(host.name):
        by_network.setdefault(port.network_id, []).append(port)
    for network_id, ports in by_network.items():
        network = model.networks[network_id]
        brq = bridge_name(network_id)
        uplink, uplink_devices = _uplink(host, network)
        devices.extend(uplink_devices)
        if uplink is not None and uplink.name == host.external_nic:
            devices = enslave(devices, uplink.name, brq)
        members = [uplink] if uplink is not None else []
        for port in ports:
            member = _port_member(model, host, port, brq)
            if member is not None:
                members.append(BridgeMember(member.name, member.mac))
                devices.append(member)
        bridge_mac = members[0].mac if members else derived_mac(brq, host.name)
        devices.append(Device(brq, "bridge", bridge_mac, mtu=network.mtu))
        bridges.append(LinuxBridge(brq, "8000." + bridge_mac.replace(":", ""), tuple(members), network_id=network_id))
    return HostSwitching(host, "LXB", tuple(devices), (), tuple(bridges), namespaces(model, host, "ns-"),
                         guests(model, host, _guest_vif))


def _uplink(host: Host, network: Network) -> tuple[BridgeMember | None, list[Device]]:
    brq = bridge_name(network.id)
    if network.network_type == "vxlan":
        name = f"vxlan-{network.segmentation_id}"
        mac = derived_mac(name, host.name)
        return BridgeMember(name, mac), [Device(name, "vxlan", mac, mtu=network.mtu, master=brq, link=host.data_nic,
                                                vni=network.segmentation_id, local_ip=host.tunnel_ip)]
    if network.network_type == "vlan":
        name = f"{host.data_nic}.{network.segmentation_id}"
        nic = next(p for p in host.pnics if p.name == host.data_nic)
        return BridgeMember(name, nic.mac), [Device(name, "vlan", nic.mac, master=brq, link=host.data_nic,
                                                    vni=network.segmentation_id)]
    if host.external_nic:
        nic = next(p for p in host.pnics if p.name == host.external_nic)
        return BridgeMember(nic.name, nic.mac), []
    return None, []


def _port_member(model: LabModel, host: Host, port: Port, brq: str) -> Device | None:
    tap = "tap" + port.short_id
    if port.device_owner.startswith("compute:"):
        return Device(tap, "tun", tap_mac(port.mac), master=brq) if running(model, port) else None
    peer = NAMESPACE_PEER.get(port.device_owner)
    if peer is None:
        return None
    return Device(tap, "veth", derived_mac(tap, host.name), master=brq, peer=peer + port.short_id)


def _guest_vif(port: Port, instance: Instance) -> GuestVif:
    return GuestVif(port.id, port.mac, "bridge", bridge_name(port.network_id), "tap" + port.short_id)
