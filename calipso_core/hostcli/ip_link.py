"""``ip link show``, ``ip -d link show`` and ``ip [-d] address show [IF]`` (also as run
inside ``ip netns exec NS``): interface blocks as iproute2 prints them.

::

    7: vxlan-42@eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master brq1 state UNKNOWN mode DEFAULT
        link/ether e2:59:f7:0f:0e:8a brd ff:ff:ff:ff:ff:ff link-netnsid 0
        vxlan id 42 local 192.168.2.1 dev eth1 srcport 0 0 dstport 8472 ageing 300     (-d only)
        inet 10.56.20.80/24 brd 10.56.20.255 scope global eth0                          (address show only)
           valid_lft forever preferred_lft forever

A renderer prints exactly what its records hold, so ``parse(render(x)) == x``; the lab
shapes one interface for each command with :func:`as_ip_link_show` and
:func:`as_ip_address_show`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, take_pairs, to_int
from calipso_core.hostcli.ip_address import (
    ADDRESS_INDENT,
    FAMILIES,
    LIFETIME_INDENT,
    Address,
    address_fields,
    parse_lifetime_line,
    render_address,
)
from calipso_core.hostcli.vxlan import Vxlan, parse_vxlan_words, render_vxlan

IP_LINK_SHOW = "ip link show"
IP_D_LINK_SHOW = "ip -d link show"
IP_ADDRESS_SHOW = "ip address show"
IP_D_ADDRESS_SHOW = "ip -d address show"  # both: the addresses and the -d details

_HEADER = re.compile(r"^(\d+): ([^\s:@]+)(?:@([^\s:]+))?: <([^>]*)>(.*)$")
_HEADER_KEYS = frozenset(("mtu", "qdisc", "master", "state", "mode", "group", "qlen"))
#: A header as iproute2 prints it (its words in its order): read by one match; any other
#: is read word by word, which names what is wrong.
_PRINTED_HEADER = re.compile(r"(\d+): ([^\s:@]+)(?:@([^\s:]+))?: <([^>]*)> mtu (\d+)(?: qdisc (\S+))?"
                             r"(?: master (\S+))?(?: state (\S+))?(?: mode (\S+))?(?: group (\S+))?(?: qlen (\d+))? *")
_ADDRESS_WORD = re.compile(r"[0-9a-fA-F:.]+")
#: Words of ``ip -d`` detail lines that are attributes, not the interface kind.
_NOT_KINDS = frozenset(("addrgenmode", "altname", "alias", "numtxqueues"))


@dataclass(frozen=True, slots=True)
class Interface:
    """One network interface as iproute2 prints it.

    ``link`` is what follows ``@`` in the name (``if3`` of a veth peer, ``eth0`` under a
    VLAN); ``link_extra`` the rest of the ``link/`` line (``promiscuity 0`` with ``-d``);
    ``details`` the other ``-d`` lines (``bridge_slave ...``), each without its indent.
    """

    index: int
    name: str
    flags: tuple[str, ...]
    mtu: int
    qdisc: str | None = None
    master: str | None = None
    state: str | None = None
    mode: str | None = None
    group: str | None = None
    qlen: int | None = None
    link: str | None = None
    link_type: str = "ether"
    mac: str | None = None
    brd: str | None = None
    link_netnsid: int | None = None
    link_extra: str = ""
    addresses: tuple[Address, ...] = ()
    vxlan: Vxlan | None = None
    details: tuple[str, ...] = ()

    @property
    def is_up(self) -> bool:
        """True when the interface is administratively up (flag ``UP``)."""
        return "UP" in self.flags

    @property
    def ipv4(self) -> tuple[Address, ...]:
        return tuple(a for a in self.addresses if a.family == "inet")

    @property
    def ipv6(self) -> tuple[Address, ...]:
        return tuple(a for a in self.addresses if a.family == "inet6")

    @property
    def kind(self) -> str | None:
        """The link kind ``-d`` shows (``vxlan``, ``bridge``, ``veth``...), if it was shown."""
        if self.vxlan:
            return "vxlan"
        if self.details:
            word = self.details[0].split()[0]
            if word not in _NOT_KINDS and not word.endswith("_slave"):
                return word
        return None


def parse_ip_link_show(text: str, command: str = IP_LINK_SHOW) -> tuple[Interface, ...]:
    """Interfaces from ``ip link show`` or ``ip -d link show`` output."""
    return parse_interfaces(text, command)


def parse_ip_address_show(text: str, command: str = IP_ADDRESS_SHOW) -> tuple[Interface, ...]:
    """Interfaces with their addresses from ``ip address show [IF]`` output (pass the
    ``ip netns exec NS ...`` command line as ``command`` so errors name it)."""
    return parse_interfaces(text, command)


def parse_interfaces(text: str, command: str) -> tuple[Interface, ...]:
    """Interface blocks: a header line, then indented lines that belong to it."""
    interfaces: list[Interface] = []
    lines = text.splitlines()
    start = None  # the index of the header line of the block being read
    for index, line in enumerate(lines):
        if line[:1].isdigit():
            if start is not None:
                interfaces.append(_parse_block(command, lines, start, index))
            start = index
        elif start is None and line and not line.isspace():
            raise ParseError(command, "expected an interface header '<index>: <name>: <flags> ...'", index + 1, line)
    if start is not None:
        interfaces.append(_parse_block(command, lines, start, len(lines)))
    return tuple(interfaces)


def _parse_block(command: str, lines: list[str], start: int, end: int) -> Interface:
    """The interface of ``lines[start:end]``, its header first (blank lines left out)."""
    fields = _parse_header(command, start + 1, lines[start])
    addresses: list[list] = []  # the fields of each Address, lifetimes last
    details: list[str] = []
    for number in range(start + 2, end + 1):
        line = lines[number - 1]
        if not line or line.isspace():
            continue
        if line.startswith(ADDRESS_INDENT) and line[4] != " ":
            if line.startswith("link/", 4):
                if "link_type" in fields or addresses or details:
                    raise ParseError(command, "a second or late 'link/' line", number, line)
                fields.update(_parse_link_line(command, number, line))
                continue
            words = line.split() if line.startswith(("inet", "vxlan "), 4) else None  # -d lines are long
            if words and words[0] in FAMILIES:
                addresses.append(address_fields(command, number, line, words))
            elif words and words[0] == "vxlan" and "vxlan" not in fields:
                fields["vxlan"] = parse_vxlan_words(command, number, line, words[1:])
            else:
                details.append(line.strip())
        elif line.startswith(LIFETIME_INDENT + "valid_lft"):
            if not addresses or addresses[-1][-1] is not None:
                raise ParseError(command, "lifetime line without an address before it", number, line)
            addresses[-1][-2:] = parse_lifetime_line(command, number, line)
        else:
            raise ParseError(command, "unexpected indentation in an interface block", number, line)
    if "link_type" not in fields:
        raise ParseError(command, f"interface {fields['name']} has no 'link/' line", start + 1, lines[start])
    return Interface(**fields, addresses=tuple(Address(*a) for a in addresses), details=tuple(details))


def _parse_header(command: str, number: int, line: str) -> dict:
    printed = _PRINTED_HEADER.fullmatch(line)
    if printed:
        index, name, link, flags, mtu, qdisc, master, state, mode, group, qlen = printed.groups()
        return {"index": int(index), "name": name, "link": link, "flags": tuple(filter(None, flags.split(","))),
                "mtu": int(mtu), "qdisc": qdisc, "master": master, "state": state, "mode": mode, "group": group,
                "qlen": int(qlen) if qlen else None}
    match = _HEADER.match(line.rstrip())
    if not match:
        raise ParseError(command, "expected '<index>: <name>: <FLAGS> mtu <n> ...'", number, line)
    index, name, link, flags, rest = match.groups()
    pairs, unknown = take_pairs(command, number, line, rest.split(), _HEADER_KEYS)
    if unknown:
        raise ParseError(command, f"unknown words in the interface header: {' '.join(unknown)}", number, line)
    if "mtu" not in pairs:
        raise ParseError(command, "interface header without 'mtu'", number, line)
    fields: dict = {"index": int(index), "name": name, "link": link, "flags": tuple(filter(None, flags.split(",")))}
    for key, value in pairs.items():
        fields[key] = to_int(command, number, line, value, key) if key in ("mtu", "qlen") else value
    return fields


def _parse_link_line(command: str, number: int, line: str) -> dict:
    words = line.split()
    fields: dict = {"link_type": words[0].removeprefix("link/"), "mac": None, "brd": None}
    words = words[1:]
    if words and _ADDRESS_WORD.fullmatch(words[0]):
        fields["mac"], words = words[0], words[1:]
    if len(words) >= 2 and words[0] == "brd":
        fields["brd"], words = words[1], words[2:]
    pairs, rest = take_pairs(command, number, line, words, frozenset(("link-netnsid",)))
    if "link-netnsid" in pairs:
        fields["link_netnsid"] = to_int(command, number, line, pairs["link-netnsid"], "link-netnsid")
    fields["link_extra"] = " ".join(rest)
    return fields


@dataclass(frozen=True)
class IpView:
    """What one iproute2 command prints of an interface record: its ``-d`` parts
    (``link_extra``, vxlan and detail lines), its addresses, its ``mode``."""

    details: bool = True
    addresses: bool = True
    mode: bool = True


AS_RECORDED = IpView()
LINK_VIEW, D_LINK_VIEW = IpView(details=False, addresses=False), IpView(addresses=False)
ADDRESS_VIEW, D_ADDRESS_VIEW = IpView(details=False, mode=False), IpView(mode=False)


def render_interfaces(interfaces: Iterable[Interface], view: IpView = AS_RECORDED) -> str:
    """The text iproute2 prints for ``interfaces``: header, ``link/`` line, ``-d`` lines,
    addresses, each exactly as the record holds them, less what ``view`` leaves out."""
    lines: list[str] = []
    for interface in interfaces:
        lines.append(_render_header(interface, view.mode))
        lines.append(_render_link_line(interface, view.details))
        if view.details:
            if interface.vxlan:
                lines.append(ADDRESS_INDENT + render_vxlan(interface.vxlan) + " ")
            lines.extend(f"{ADDRESS_INDENT}{detail} " for detail in interface.details)
        if view.addresses:
            for address in interface.addresses:
                lines.extend(render_address(address))
    return joined(lines)


render_ip_link_show = render_interfaces
render_ip_address_show = render_interfaces
_HEADER_WORDS = ("qdisc", "master", "state", "mode", "group")


def _render_header(interface: Interface, mode: bool = True) -> str:
    name = f"{interface.name}@{interface.link}" if interface.link else interface.name
    words = [f"{interface.index}: {name}: <{','.join(interface.flags)}>", f"mtu {interface.mtu}"]
    for key in _HEADER_WORDS if mode else ("qdisc", "master", "state", "group"):
        value = getattr(interface, key)
        if value is not None:
            words.append(f"{key} {value}")
    if interface.qlen is not None:
        words.append(f"qlen {interface.qlen}")
    elif interface.group is not None:
        words.append("")  # iproute2 leaves a space after 'group <g>' when no qlen follows
    return " ".join(words)


def _render_link_line(interface: Interface, details: bool = True) -> str:
    words = [f"link/{interface.link_type}"]
    if interface.mac:
        words.append(interface.mac)
    if interface.brd:
        words += ["brd", interface.brd]
    if interface.link_netnsid is not None:
        words += ["link-netnsid", str(interface.link_netnsid)]
    if interface.link_extra and details:
        words += [interface.link_extra, ""]
    return ADDRESS_INDENT + " ".join(words)


def as_ip_view(interface: Interface, view: IpView) -> Interface:
    """The record of what ``view`` prints of ``interface`` (``render_interfaces`` of it
    prints the same as ``render_interfaces`` of ``interface`` with ``view``)."""
    changes: dict = {} if view.details else {"vxlan": None, "details": (), "link_extra": ""}
    if not view.addresses:
        changes["addresses"] = ()
    if not view.mode:
        changes["mode"] = None
    return replace(interface, **changes)


def as_ip_link_show(interface: Interface, details: bool = False) -> Interface:
    """What ``ip link show`` (``details``: ``ip -d link show``) prints of ``interface``:
    no addresses; the ``-d`` parts only with ``details``."""
    return as_ip_view(interface, D_LINK_VIEW if details else LINK_VIEW)


def as_ip_address_show(interface: Interface) -> Interface:
    """What ``ip address show`` prints of ``interface``: no ``mode`` and no ``-d`` parts."""
    return as_ip_view(interface, ADDRESS_VIEW)
