"""The switching view of an Open vSwitch host (hybrid plug, as the OVS agent sets it up).

See ``calipso_core.lab.switching`` for the naming rules.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from calipso_core.lab.records import Host, Instance, Port
from calipso_core.lab.switching import (
    BridgeMember,
    Device,
    GuestVif,
    HostSwitching,
    LinuxBridge,
    OvsBridge,
    OvsPort,
    base_devices,
    derived_mac,
    enslave,
    guests,
    instance_ports,
    namespaces,
    running,
    tap_mac,
)

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

LOCAL_PORT = 65534
NAMESPACED_PREFIX = {"network:dhcp": "tap", "network:router_interface": "qr-", "network:router_gateway": "qg-"}


@lru_cache(maxsize=1 << 12)  # every tunnel host's view names the same peers
def tunnel_port_name(remote_ip: str) -> str:
    """``vxlan-c0a80002``: the OVS agent names a tunnel port after the remote IP in hex."""
    return "vxlan-" + "".join(f"{int(octet):02x}" for octet in remote_ip.split("."))


def ovs_view(model: LabModel, host: Host) -> HostSwitching:
    devices = base_devices(model, host)
    if not ("network" in host.roles or "compute" in host.roles):
        return HostSwitching(host, "OVS", tuple(devices), (), (), (), ())
    bridges = [_br_int(model, host)]
    if model.spec.type_driver == "vxlan":
        bridges.append(_br_tun(model, host))
    else:
        bridges.append(_physical_bridge("br-prv", "prv", host.data_nic))
        devices = enslave(devices, host.data_nic, "ovs-system")
    if host.external_nic:
        bridges.append(_physical_bridge("br-ex", "ex", host.external_nic))
        devices = enslave(devices, host.external_nic, "ovs-system")
    devices.append(Device("ovs-system", "openvswitch", derived_mac("ovs-system", host.name), state="DOWN"))
    for bridge in bridges:
        devices.append(Device(bridge.name, "openvswitch", derived_mac(bridge.name, host.name), state="DOWN"))
    if model.spec.type_driver == "vxlan":
        devices.append(Device("vxlan_sys_4789", "vxlan", derived_mac("vxlan_sys_4789", host.name), mtu=65000,
                              master="ovs-system"))
    qbrs = []
    for port, instance in instance_ports(model, host):
        qbr, plumbing = _hybrid_plug(model, host, port, instance)
        qbrs.append(qbr)
        devices.extend(plumbing)
    return HostSwitching(host, "OVS", tuple(devices), tuple(bridges), tuple(qbrs),
                         namespaces(model, host, "tap"), guests(model, host, _guest_vif))


def _br_int(model: LabModel, host: Host) -> OvsBridge:
    state = model.host_state[host.name]
    ports = [OvsPort("patch-tun", "patch", options=(("peer", "patch-int"),))] \
        if model.spec.type_driver == "vxlan" else [OvsPort("int-br-prv", "patch", options=(("peer", "phy-br-prv"),))]
    if host.external_nic:
        ports.append(OvsPort("int-br-ex", "patch", options=(("peer", "phy-br-ex"),)))
    for port in model.host_ports(host.name):
        tag = state.local_ids.get(port.network_id)
        if port.device_owner.startswith("compute:"):
            ports.append(OvsPort("qvo" + port.short_id, "", tag, mac=derived_mac("qvo" + port.short_id, host.name),
                                 port_id=port.id))
        elif port.device_owner in NAMESPACED_PREFIX:
            name = NAMESPACED_PREFIX[port.device_owner] + port.short_id
            ports.append(OvsPort(name, "internal", tag, mac=port.mac, port_id=port.id))
    return _numbered("br-int", ports)


def _br_tun(model: LabModel, host: Host) -> OvsBridge:
    """Numbered as ``_numbered`` does, built at once: a port per other host of the region."""
    ports = [OvsPort("br-tun", "internal", ofport=LOCAL_PORT),
             OvsPort("patch-int", "patch", options=(("peer", "patch-tun"),), ofport=1)]
    local = (("df_default", "true"), ("egress_pkt_mark", "0"), ("in_key", "flow"),
             ("local_ip", host.tunnel_ip or ""), ("out_key", "flow"))
    for peer in model.tunnel_hosts(host.region):
        if peer.name != host.name:
            remote = peer.tunnel_ip or ""
            ports.append(OvsPort(tunnel_port_name(remote), "vxlan", options=(*local, ("remote_ip", remote)),
                                 ofport=len(ports)))
    return OvsBridge("br-tun", tuple(ports))


def _physical_bridge(name: str, suffix: str, nic: str) -> OvsBridge:
    return _numbered(name, [OvsPort(f"phy-br-{suffix}", "patch", options=(("peer", f"int-br-{suffix}"),)),
                            OvsPort(nic)])


def _numbered(name: str, ports: list[OvsPort]) -> OvsBridge:
    """The bridge with its local port first and ofport numbers in creation order."""
    numbered = [OvsPort(name, "internal", ofport=LOCAL_PORT)]
    numbered += [OvsPort(p.name, p.interface_type, p.tag, p.options, p.mac, p.port_id, i)
                 for i, p in enumerate(ports, start=1)]
    return OvsBridge(name, tuple(numbered))


def _hybrid_plug(model: LabModel, host: Host, port: Port,
                 instance: Instance | None) -> tuple[LinuxBridge, list[Device]]:
    """``qbr`` with ``qvb`` (and the guest's ``tap`` while it runs), and the veth devices."""
    short = port.short_id
    qbr, qvb, qvo, tap = "qbr" + short, "qvb" + short, "qvo" + short, "tap" + short
    qvb_mac, qvo_mac = derived_mac(qvb, host.name), derived_mac(qvo, host.name)
    members = [BridgeMember(qvb, qvb_mac)]
    devices = [Device(qbr, "bridge", qvb_mac), Device(qvo, "veth", qvo_mac, master="ovs-system", peer=qvb),
               Device(qvb, "veth", qvb_mac, master=qbr, peer=qvo)]
    if running(model, port):
        members.append(BridgeMember(tap, tap_mac(port.mac)))
        devices.append(Device(tap, "tun", tap_mac(port.mac), master=qbr))
    bridge = LinuxBridge(qbr, "8000." + qvb_mac.replace(":", ""), tuple(members), network_id=port.network_id)
    return bridge, devices


def _guest_vif(port: Port, instance: Instance) -> GuestVif:
    return GuestVif(port.id, port.mac, "bridge", "qbr" + port.short_id, "tap" + port.short_id)
