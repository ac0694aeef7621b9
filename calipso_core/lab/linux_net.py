"""What iproute2, sysfs and the bridge tools show of a lab host: its interfaces as
``ip link``/``ip address`` records with stable indexes, its namespaces with their ids,
``ls -l /sys/class/net``, ``brctl show`` and ``bridge fdb show``.

Indexes behave as the kernel's do: a device keeps its index while it exists, a new one
gets the next number, one that comes back (a restarted guest's ``tap``) gets a new one.
A veth whose peer sits in the same namespace shows the peer's name after ``@``; one whose
peer sits in a namespace shows ``@if<peer index>`` and ``link-netnsid <namespace id>``.
Namespaces number their own interfaces from ``lo`` = 1.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from calipso_core.hostcli.brctl import Bridge
from calipso_core.hostcli.bridge_fdb import FdbEntry
from calipso_core.hostcli.ip_address import Address
from calipso_core.hostcli.ip_link import (
    ADDRESS_VIEW,
    D_ADDRESS_VIEW,
    D_LINK_VIEW,
    LINK_VIEW,
    Interface,
    render_interfaces,
)
from calipso_core.hostcli.sys_class_net import NetDeviceEntry
from calipso_core.hostcli.vxlan import Vxlan
from calipso_core.lab.records import Pnic
from calipso_core.lab.shell import Handler
from calipso_core.lab.ssh import CommandOutput
from calipso_core.lab.switching import Device, HostSwitching, NamespaceInterface

BROADCAST = "ff:ff:ff:ff:ff:ff"
NO_MAC = "00:00:00:00:00:00"
#: qdisc and transmit queue length by device kind (a device that is down has ``noop``).
QUEUES = {"loopback": ("noqueue", 1000), "ether": ("mq", 1000), "bond": ("noqueue", 1000),
          "bridge": ("noqueue", 1000), "veth": ("noqueue", 1000), "tun": ("fq_codel", 1000),
          "vxlan": ("noqueue", None), "vlan": ("noqueue", 1000), "openvswitch": ("noop", 1000)}
#: The ``-d`` line that names each kind (vxlan has its own record, ether none).
KIND_DETAILS = {
    "bond": "bond mode active-backup miimon 100 updelay 0 downdelay 0 use_carrier 1 arp_interval 0 "
            "arp_validate none primary_reselect always fail_over_mac none xmit_hash_policy layer2",
    "bridge": "bridge forward_delay 0 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 "
              "vlan_filtering 0 vlan_protocol 802.1Q",
    "veth": "veth",
    "tun": "tun type tap pi off vnet_hdr on persist off",
    "openvswitch": "openvswitch",
}
BRIDGE_SLAVE = "bridge_slave state forwarding priority 32 cost 100 hairpin off guard off root_block off " \
               "fastleave off learning on flood on"
ADDRGENMODE = "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535"
OVS_VXLAN_PORT, LXB_VXLAN_PORT = 4789, 8472
#: Kinds whose operational state the kernel cannot tell (no carrier): UNKNOWN while up.
NO_CARRIER_STATE = frozenset(("loopback", "tun", "vxlan"))


class NumberRegistry:
    """Numbers handed to named things, each kept while its thing exists: interface indexes
    (counting up, never reused, as the kernel's) or, with ``reuse_lowest``, namespace ids
    and datapath port numbers (the lowest free number)."""

    def __init__(self, first: int = 1, reuse_lowest: bool = False):
        self._first, self._reuse = first, reuse_lowest
        self._numbers: dict[str, int] = {}
        self._next = first

    def assign(self, names: Iterable[str]) -> dict[str, int]:
        """The number of each of ``names`` (the things that exist now); things no longer
        named lose theirs."""
        names = list(dict.fromkeys(names))
        present = set(names)
        self._numbers = {n: i for n, i in self._numbers.items() if n in present}
        used = set(self._numbers.values())
        candidate = self._first
        for name in names:
            if name in self._numbers:
                continue
            if self._reuse:
                while candidate in used:
                    candidate += 1
                number = candidate
            else:
                number, self._next = self._next, self._next + 1
            used.add(number)
            self._numbers[name] = number
        return {n: self._numbers[n] for n in names}


@dataclass
class Numbering:
    """What one host's kernel has numbered: root interfaces, namespace ids, and the
    interfaces of each namespace."""

    root: NumberRegistry = field(default_factory=NumberRegistry)
    netnsids: NumberRegistry = field(default_factory=lambda: NumberRegistry(0, reuse_lowest=True))
    namespaces: dict[str, NumberRegistry] = field(default_factory=dict)


@dataclass(frozen=True)
class HostInterfaces:
    """A host's interfaces (full records: ``-d`` details and addresses) by namespace:
    ``root`` and each namespace in ``namespaces`` (``lo`` first), ordered by index."""

    root: tuple[Interface, ...]
    namespaces: Mapping[str, tuple[Interface, ...]]
    netnsids: Mapping[str, int]


def host_interfaces(view: HostSwitching, numbering: Numbering, mtu_of: Callable[[str], int]) -> HostInterfaces:
    """The interfaces of ``view``, numbered by ``numbering`` (which remembers them);
    ``mtu_of(port id)`` gives a namespace interface's MTU (its network's)."""
    indexes = numbering.root.assign(d.name for d in view.devices)
    netnsids = numbering.netnsids.assign(ns.name for ns in view.namespaces)
    numbering.namespaces = {ns.name: numbering.namespaces.get(ns.name) or NumberRegistry()
                            for ns in view.namespaces}
    grouped = {ns.name: _by_device(ns.interfaces) for ns in view.namespaces}
    ns_indexes = {name: numbering.namespaces[name].assign(["lo", *members]) for name, members in grouped.items()}
    location = {member: name for name, members in grouped.items() for member in members}
    peers = {d.peer: d.name for d in view.devices if d.peer}
    bonds = {p.name: p for p in view.host.pnics if p.kind == "bond"}
    root = []
    for device in view.devices:
        link, netnsid = device.link if device.kind == "vlan" else None, None
        if device.peer in location:
            namespace = location[device.peer]
            link, netnsid = f"if{ns_indexes[namespace][device.peer]}", netnsids[namespace]
        elif device.peer in indexes:
            link = device.peer
        root.append(_root_interface(bonds, device, indexes[device.name], link, netnsid))
    namespaces = {}
    for name, members in grouped.items():
        numbers = ns_indexes[name]
        interfaces = [loopback()]
        for member, records in members.items():
            peer = peers.get(member)
            link = f"if{indexes[peer]}" if peer else None
            kind = "veth" if peer else ("openvswitch" if view.mechanism_driver == "OVS" else "tun")
            interfaces.append(namespace_interface(member, records, numbers[member], kind, link,
                                                  mtu_of(records[0].port_id)))
        namespaces[name] = tuple(sorted(interfaces, key=lambda i: i.index))
    return HostInterfaces(tuple(sorted(root, key=lambda i: i.index)), namespaces, netnsids)


def _by_device(interfaces: Iterable[NamespaceInterface]) -> dict[str, list[NamespaceInterface]]:
    grouped: dict[str, list[NamespaceInterface]] = {}
    for interface in interfaces:
        grouped.setdefault(interface.name, []).append(interface)
    return grouped


def loopback(index: int = 1) -> Interface:
    return Interface(index, "lo", ("LOOPBACK", "UP", "LOWER_UP"), 65536, qdisc="noqueue", state="UNKNOWN",
                     mode="DEFAULT", group="default", qlen=1000, link_type="loopback", mac=NO_MAC, brd=NO_MAC,
                     link_extra="promiscuity 0 minmtu 0 maxmtu 0",
                     addresses=(Address("inet", "127.0.0.1", 8, scope="host", label="lo"),
                                Address("inet6", "::1", 128, scope="host")),
                     details=(ADDRGENMODE,))


def _root_interface(bonds: Mapping[str, Pnic], device: Device, index: int, link: str | None,
                    netnsid: int | None) -> Interface:
    if device.kind == "loopback":
        return loopback(index)
    bond = bonds.get(device.master or "")
    up = device.state != "DOWN"
    flags = ["BROADCAST", "MULTICAST"] + (["SLAVE"] if bond else []) + (["MASTER"] if device.kind == "bond" else [])
    flags += ["UP", "LOWER_UP"] if up else []
    qdisc, qlen = QUEUES.get(device.kind, ("noqueue", 1000))
    state = "UNKNOWN" if up and device.kind in NO_CARRIER_STATE else device.state
    mac = bonds[device.master].mac if bond else device.mac  # a bond gives its slaves its own MAC
    details = [KIND_DETAILS[device.kind]] if device.kind in KIND_DETAILS else []
    if device.kind == "vlan":
        details.append(f"vlan protocol 802.1Q id {device.vni} <REORDER_HDR>")
    if bond:
        active = "ACTIVE" if bond.members[:1] == (device.name,) else "BACKUP"
        details.append(f"bond_slave state {active} mii_status UP link_failure_count 0 perm_hwaddr {device.mac} "
                       "queue_id 0")
    elif device.master == "ovs-system":
        details.append("openvswitch_slave")
    elif device.master:
        details.append(BRIDGE_SLAVE)
    addresses = []
    if device.ip:
        addresses.append(ipv4(device.ip, device.prefixlen or 32, device.name))
    if up and not bond:
        addresses.append(link_local(device.mac))
    promiscuity = 1 if device.master and not bond else 0
    return Interface(
        index, device.name, tuple(flags), device.mtu, qdisc=qdisc if up else "noop", master=device.master,
        state=state, mode="DEFAULT", group="default", qlen=qlen, link=link, mac=mac, brd=BROADCAST,
        link_netnsid=netnsid, link_extra=f"promiscuity {promiscuity} minmtu 68 maxmtu 65535",
        addresses=tuple(addresses), vxlan=_vxlan(device), details=(*details, ADDRGENMODE),
    )


def _vxlan(device: Device) -> Vxlan | None:
    if device.kind != "vxlan":
        return None
    if device.master == "ovs-system":  # the datapath's own tunnel device, shared by every tunnel
        return Vxlan(0, srcport=(0, 0), dstport=OVS_VXLAN_PORT, extra=(
            "nolearning", "ttl", "auto", "ageing", "300", "udpcsum", "noudp6zerocsumtx", "udp6zerocsumrx",
            "external"))
    return Vxlan(device.vni or 0, local=device.local_ip, dev=device.link, srcport=(0, 0), dstport=LXB_VXLAN_PORT,
                 extra=("ttl", "auto", "ageing", "300", "udpcsum", "noudp6zerocsumtx", "noudp6zerocsumrx"))


def namespace_interface(name: str, records: list[NamespaceInterface], index: int, kind: str, link: str | None,
                        mtu: int) -> Interface:
    """A DHCP or router port's device inside its namespace: the far end of a veth (Linux
    bridge), an OVS internal port, or the kernel end of a VPP tap."""
    addresses = [ipv4(r.ip, r.prefixlen, name) for r in records if r.ip]
    addresses.append(link_local(records[0].mac))
    qdisc, qlen = QUEUES[kind]
    return Interface(
        index, name, ("BROADCAST", "MULTICAST", "UP", "LOWER_UP"), mtu, qdisc="noqueue" if qdisc == "noop" else qdisc,
        state="UP" if kind == "veth" else "UNKNOWN", mode="DEFAULT", group="default", qlen=qlen, link=link,
        mac=records[0].mac, brd=BROADCAST, link_netnsid=0 if link else None,
        link_extra="promiscuity 0 minmtu 68 maxmtu 65535", addresses=tuple(addresses),
        details=(KIND_DETAILS[kind], ADDRGENMODE),
    )


def ipv4(address: str, prefixlen: int, label: str) -> Address:
    network = ipaddress.IPv4Network(f"{address}/{prefixlen}", strict=False)
    broadcast = str(network.broadcast_address) if prefixlen < 31 else None
    return Address("inet", address, prefixlen, broadcast, "global", label=label)


@lru_cache(maxsize=1 << 16)  # every device of every host, asked again on each change
def link_local(mac: str) -> Address:
    """The IPv6 link-local address the kernel derives from ``mac`` (EUI-64)."""
    octets = bytes.fromhex(mac.replace(":", ""))
    eui = bytes((octets[0] ^ 0x02, octets[1], octets[2], 0xFF, 0xFE, octets[3], octets[4], octets[5]))
    return Address("inet6", str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui)), 64, scope="link")


# --- ip link / ip address ---------------------------------------------------------------------


def device_missing(name: str) -> CommandOutput:
    return CommandOutput(1, "", f'Device "{name}" does not exist.\n')


def ip_commands(interfaces: Callable[[], tuple[Interface, ...]]) -> dict[str, Handler]:
    """``ip [-d] link|address|addr show [[dev] IF]`` answered from ``interfaces()``."""

    def show(details: bool, addresses: bool, dev: str | None = None) -> CommandOutput | str:
        found = interfaces()
        if dev is not None:
            found = tuple(i for i in found if i.name == dev)
            if not found:
                return device_missing(dev)
        if addresses:
            return render_interfaces(found, D_ADDRESS_VIEW if details else ADDRESS_VIEW)
        return render_interfaces(found, D_LINK_VIEW if details else LINK_VIEW)

    commands: dict[str, Handler] = {}
    for option in ("", "-d "):
        for obj in ("link", "address", "addr"):
            base = f"ip {option}{obj} show"
            details, addresses = bool(option), obj != "link"
            commands[base] = lambda d=details, a=addresses: show(d, a)
            commands[base + " {dev}"] = lambda dev, d=details, a=addresses: show(d, a, dev)
            commands[base + " dev {dev}"] = lambda dev, d=details, a=addresses: show(d, a, dev)
    return commands


# --- /sys/class/net ---------------------------------------------------------------------------


def sysfs_entries(view: HostSwitching) -> tuple[NetDeviceEntry, ...]:
    """``/sys/class/net``: PCI NICs link into their PCI device, every other interface into
    ``/devices/virtual/net/``; ``bonding_masters`` is there once the bonding driver is."""
    modified = ls_time(view.host.started_at)
    pci = {p.name: p.pci for p in view.host.pnics if p.kind == "ether" and p.pci}
    entries = []
    for device in view.devices:
        address = pci.get(device.name)
        target = (f"../../devices/pci0000:00/0000:00:{address.split(':')[1]}.0/{address}/net/{device.name}"
                  if address else f"../../devices/virtual/net/{device.name}")
        entries.append(NetDeviceEntry(device.name, target, modified=modified))
    if any(p.kind == "bond" for p in view.host.pnics):
        entries.append(NetDeviceEntry("bonding_masters", None, "-rw-r--r--", size=4096, modified=modified))
    return tuple(sorted(entries, key=lambda e: e.name))


def ls_time(iso_time: str) -> str:
    """``2025-03-01T08:00:00Z`` as ``ls -l`` prints a recent time: ``Mar  1 08:00``."""
    moment = datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ")
    return f"{moment:%b} {moment.day:>2} {moment:%H:%M}"


# --- brctl show / bridge fdb show -----------------------------------------------------------------


def brctl_bridges(view: HostSwitching) -> tuple[Bridge, ...]:
    """The kernel bridges as ``brctl show`` lists them: bridges and their ports sorted."""
    return tuple(Bridge(b.name, b.bridge_id, b.stp, tuple(sorted(m.name for m in b.interfaces)))
                 for b in sorted(view.linux_bridges, key=lambda b: b.name))


def fdb_entries(view: HostSwitching, remote_vteps: Callable[[str], list[str]]) -> list[FdbEntry]:
    """``bridge fdb show``: the NICs' multicast entries, each bridge port's own MAC, the
    MAC learned behind each port (a guest's, a namespace end's), and on each vxlan device
    one entry per remote VTEP of its network (``remote_vteps(network id)``)."""
    devices = {d.name: d for d in view.devices}
    slaves = {d.name for d in view.devices if d.master and devices.get(d.master, d).kind == "bond"}
    behind = {vif.target_dev: vif.mac for g in view.guests if g.state == "running" for vif in g.vifs
              if vif.target_dev}
    host_end = {d.peer: d.name for d in view.devices if d.peer}
    behind |= {host_end[i.name]: i.mac for ns in view.namespaces for i in ns.interfaces if i.name in host_end}
    entries = []
    for device in view.devices:
        if device.kind in ("ether", "bond") and device.name not in slaves:
            entries += [FdbEntry(group, device.name, flags=("self",), state="permanent")
                        for group in ("33:33:00:00:00:01", "01:00:5e:00:00:01")]
    for bridge in sorted(view.linux_bridges, key=lambda b: b.name):
        for member in bridge.interfaces:
            entries.append(FdbEntry(member.mac, member.name, master=bridge.name, state="permanent"))
            if member.name in behind:
                entries.append(FdbEntry(behind[member.name], member.name, master=bridge.name))
            device = devices.get(member.name)
            if device is not None and device.kind == "vxlan" and bridge.network_id:
                entries += [FdbEntry(NO_MAC, member.name, dst=ip, flags=("self",), state="permanent")
                            for ip in remote_vteps(bridge.network_id)]
    return entries
