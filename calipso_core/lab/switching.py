"""What a host's switching looks like, derived from the model: plain records that the
lab's SSH hosts render as command output (``ip address show``, ``ovs-vsctl show``,
``brctl show``, ``ip netns``, ``virsh``, ``vppctl``).

``host_switching(model, host)`` builds the view under the model's lock. The rules are
those of the real drivers:

- Names: ``tap``/``qvo``/``qvb``/``qbr``/``qr-``/``qg-``/``ns-`` + the first 11 characters
  of the port id; ``brq`` + the first 11 of the network id; ``qdhcp-<network id>``,
  ``qrouter-<router id>``; OVS tunnel ports ``vxlan-<remote IP as 8 hex digits>``.
- OVS (hybrid plug): each instance port is ``tap`` in Linux bridge ``qbr``, veth ``qvb``–``qvo``,
  ``qvo`` on ``br-int`` with the network's local VLAN tag; DHCP ``tap`` and router
  ``qr-``/``qg-`` are internal ports of ``br-int`` moved into their namespaces; ``br-tun``
  has a vxlan port to every other tunnel host of the region; ``br-prv`` (vlan) and
  ``br-ex`` (external) hold the physical NIC.
- Linux bridge: one ``brq`` per network present on the host, holding the ports' ``tap``
  devices and ``vxlan-<vni>`` or ``<data nic>.<vlan id>`` (the external NIC for flat).
- VPP: see ``calipso_core.lab.switching_vpp``.
- A stopped instance has no ``tap`` device (libvirt removed it); the rest stays.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from calipso_core.lab.records import Host, Instance, Pnic, Port

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel
    from calipso_core.lab.switching_vpp import VppSwitch

#: Views kept: enough that a host's view outlives a scan's round trips to that host while
#: it asks the other hosts of a zone (a few hundred KB each at a few hundred hosts).
SWITCHING_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Device:
    """A network device of the host's root namespace, as ``ip link`` shows it.

    ``kind``: ether, bond, bridge, veth, tun, vxlan, vlan, openvswitch, loopback.
    ``master`` is the bridge, bond or ``ovs-system`` it is enslaved to; ``vni``/``link``
    describe vxlan and vlan devices.
    """

    name: str
    kind: str
    mac: str
    mtu: int = 1500
    master: str | None = None
    ip: str | None = None
    prefixlen: int | None = None
    state: str = "UP"
    peer: str | None = None
    link: str | None = None
    vni: int | None = None
    local_ip: str | None = None


@dataclass(frozen=True, slots=True)
class OvsPort:
    """A port of an OVS bridge; ``interface_type`` is '' (system), internal, patch or vxlan."""

    name: str
    interface_type: str = ""
    tag: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    mac: str | None = None
    port_id: str | None = None
    ofport: int = 0


@dataclass(frozen=True, slots=True)
class OvsBridge:
    name: str
    ports: tuple[OvsPort, ...]
    datapath_type: str = "system"


@dataclass(frozen=True, slots=True)
class BridgeMember:
    name: str
    mac: str


@dataclass(frozen=True, slots=True)
class LinuxBridge:
    """A kernel bridge as ``brctl show`` lists it; ``bridge_id`` is ``8000.<mac hex>``."""

    name: str
    bridge_id: str
    interfaces: tuple[BridgeMember, ...]
    stp: bool = False
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class NamespaceInterface:
    name: str
    mac: str
    ip: str
    prefixlen: int
    port_id: str


@dataclass(frozen=True, slots=True)
class Namespace:
    """``qdhcp-<network id>`` or ``qrouter-<router id>`` with its interfaces (``lo`` left out)."""

    name: str
    kind: str
    object_id: str
    interfaces: tuple[NamespaceInterface, ...]


@dataclass(frozen=True, slots=True)
class GuestVif:
    """An ``<interface>`` of a libvirt domain: type bridge (source bridge) or vhostuser
    (source socket path); ``target_dev`` is the tap device (None for vhost-user)."""

    port_id: str
    mac: str
    interface_type: str
    source: str
    target_dev: str | None


@dataclass(frozen=True, slots=True)
class Guest:
    """A libvirt domain: ``state`` is ``running`` or ``shut off``; ``domain_id`` is None when off."""

    instance_id: str
    libvirt_name: str
    display_name: str
    state: str
    domain_id: int | None
    vifs: tuple[GuestVif, ...]


@dataclass(frozen=True, slots=True)
class HostSwitching:
    host: Host
    mechanism_driver: str
    devices: tuple[Device, ...]
    ovs_bridges: tuple[OvsBridge, ...]
    linux_bridges: tuple[LinuxBridge, ...]
    namespaces: tuple[Namespace, ...]
    guests: tuple[Guest, ...]
    vpp: VppSwitch | None = None


@lru_cache(maxsize=1 << 16)  # each host's view asks again for every device it builds
def derived_mac(name: str, host: str) -> str:
    """A stable, locally administered MAC for a virtual device the port does not name
    (veths, bridges): the same device on the same host always gets the same one."""
    digest = hashlib.md5(f"{host}/{name}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (digest[0] & 0xFE | 0x02, *digest[1:6]))


def tap_mac(port_mac: str) -> str:
    """libvirt gives a guest's tap device the port MAC with ``fe`` as first byte."""
    return "fe" + port_mac[2:]


def host_switching(model: LabModel, host_name: str) -> HostSwitching:
    """The switching view of one host (raises ``LabError`` 404 for an unknown host).

    Views are immutable; the latest ``SWITCHING_CACHE_SIZE`` are kept until the model
    changes, since a host answering several commands in a row asks for the same view (a
    VPP host of a large lab has thousands of tunnels to build)."""
    from calipso_core.lab.switching_lxb import lxb_view
    from calipso_core.lab.switching_ovs import ovs_view
    from calipso_core.lab.switching_vpp import vpp_view

    with model.lock:
        cache = model.switching_cache
        cached = cache.get(host_name)
        if cached is not None and cached[0] == model.version:
            cache.move_to_end(host_name)
            return cached[1]
        host = model.get("hosts", host_name)
        builder = {"OVS": ovs_view, "LXB": lxb_view, "VPP": vpp_view}[model.spec.mechanism_driver]
        view = builder(model, host)
        cache[host_name] = (model.version, view)
        cache.move_to_end(host_name)
        while len(cache) > SWITCHING_CACHE_SIZE:
            cache.popitem(last=False)
        return view


def running(model: LabModel, port: Port) -> bool:
    """Whether an instance port's tap device exists (its instance is not stopped)."""
    instance = model.instances.get(port.device_id)
    return instance is None or instance.vm_state != "stopped"


def base_devices(model: LabModel, host: Host, vpp_owned: tuple[str, ...] = ()) -> list[Device]:
    """Loopback, the physical NICs and bonds (minus those VPP drives)."""
    devices = [Device("lo", "loopback", "00:00:00:00:00:00", mtu=65536, ip="127.0.0.1", prefixlen=8,
                      state="UNKNOWN")]
    for nic in host.pnics:
        if nic.name in vpp_owned:
            continue
        devices.append(Device(nic.name, nic.kind, nic.mac, nic.mtu, master=nic.bond, ip=nic.ip,
                              prefixlen=nic.prefixlen if nic.ip else None))
    return devices


def enslave(devices: list[Device], name: str, master: str) -> list[Device]:
    """``devices`` with ``name`` attached to ``master``."""
    return [Device(d.name, d.kind, d.mac, d.mtu, master, d.ip, d.prefixlen, d.state, d.peer, d.link, d.vni,
                   d.local_ip) if d.name == name else d for d in devices]


def namespaces(model: LabModel, host: Host, dhcp_prefix: str) -> tuple[Namespace, ...]:
    """The qdhcp and qrouter namespaces of a network node, built from the ports bound to it."""
    found: dict[str, list[NamespaceInterface]] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for router in model.routers_on(host.name):
        found[f"qrouter-{router.id}"] = []
        kinds[f"qrouter-{router.id}"] = ("router", router.id)
    for port in model.host_ports(host.name):
        owner = port.device_owner
        if owner == "network:dhcp":
            ns, device = f"qdhcp-{port.network_id}", dhcp_prefix + port.short_id
            kinds[ns] = ("dhcp", port.network_id)
        elif owner in ("network:router_interface", "network:router_gateway"):
            ns = f"qrouter-{port.device_id}"
            device = ("qr-" if owner == "network:router_interface" else "qg-") + port.short_id
        else:
            continue
        found.setdefault(ns, []).extend(_addresses(model, port, device))
    return tuple(Namespace(name, kinds[name][0], kinds[name][1], tuple(ifaces)) for name, ifaces in found.items())


def _addresses(model: LabModel, port: Port, device: str) -> list[NamespaceInterface]:
    result = []
    for subnet_id, address in port.fixed_ips:
        subnet = model.subnets.get(subnet_id)
        prefix = ipaddress.IPv4Network(subnet.cidr).prefixlen if subnet else 24
        result.append(NamespaceInterface(device, port.mac, address, prefix, port.id))
    return result or [NamespaceInterface(device, port.mac, "", 0, port.id)]


def guests(model: LabModel, host: Host, vif_for) -> tuple[Guest, ...]:
    """The libvirt domains of a compute host; ``vif_for(port, instance)`` gives each vif."""
    result = []
    for instance in model.host_instances(host.name):
        on = instance.vm_state != "stopped"
        vifs = tuple(vif_for(model.ports[p], instance) for p in instance.port_ids)
        result.append(Guest(instance.id, instance.libvirt_name, instance.name, "running" if on else "shut off",
                            instance.number if on else None, vifs))
    return tuple(result)


def pnic_named(host: Host, name: str | None) -> Pnic | None:
    return next((p for p in host.pnics if p.name == name), None)


def instance_ports(model: LabModel, host: Host) -> list[tuple[Port, Instance | None]]:
    return [(p, model.instances.get(p.device_id)) for p in model.host_ports(host.name)
            if p.device_owner.startswith("compute:")]


def network_peers(model: LabModel, host: Host, network_id: str) -> list[Host]:
    """The other hosts with a port on ``network_id``: where a vxlan network's traffic from
    ``host`` is tunnelled to (the remote VTEPs in ``bridge fdb show``)."""
    return [model.hosts[h] for h in model.network_hosts.get(network_id, ()) if h != host.name]
