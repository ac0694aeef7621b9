"""``vppctl show interface address``: per interface (sorted by name) its admin state, its
L2 membership and its L3 addresses::

    TenGigabitEthernet5/0/0 (up):
      L3 172.16.0.10/16
    VirtualEthernet0/0/0 (up):
      L2 bridge bd-id 1 idx 1 shg 0
    local0 (dn):

An unnumbered interface reads ``<name> (up): `` then ``  unnumbered, use <other>``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined
from calipso_plugins_vpp.hostcli._columns import vppctl_command

SHOW_ADDRESSES = "show interface address"
_TITLE = re.compile(r"^(?P<name>\S+) \((?P<state>up|dn)\):(?P<space> ?)$")
_UNNUMBERED = re.compile(r"^  unnumbered, use (?P<other>\S+)$")
_BRIDGE = re.compile(r"^  L2 bridge bd-id (?P<bd>\d+) idx (?P<idx>\d+) shg (?P<shg>\d+) ?(?P<bvi>bvi)?\s*$")
_XCONNECT = re.compile(r"^  L2 xconnect (?P<peer>\S+)$")
_L3 = re.compile(r"^  L3 (?P<address>\S+)/(?P<length>\d+)(?P<table> .*)?$")


@dataclass(frozen=True)
class L2Bridge:
    bd_id: int
    bd_index: int
    shg: int = 0
    bvi: bool = False


@dataclass(frozen=True)
class L3Address:
    """An address with its prefix length; ``table`` the ``ip4 table-id N fib-idx N``
    suffix of an address in another table, as printed."""

    address: str
    prefixlen: int
    table: str = ""

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version


@dataclass(frozen=True)
class InterfaceAddresses:
    interface: str
    admin_up: bool
    bridge: L2Bridge | None = None
    xconnect: str | None = None
    addresses: tuple[L3Address, ...] = ()
    unnumbered: str | None = None

    @property
    def ipv4(self) -> tuple[L3Address, ...]:
        return tuple(a for a in self.addresses if a.version == 4)


def parse_show_addresses(text: str, command: str = vppctl_command(SHOW_ADDRESSES)) -> tuple[InterfaceAddresses, ...]:
    found: list[InterfaceAddresses] = []
    for number, line in body_lines(text):
        if match := _TITLE.match(line):
            found.append(InterfaceAddresses(match["name"], match["state"] == "up"))
            continue
        if not found:
            raise ParseError(command, "expected '<interface> (up|dn):'", number, line)
        found[-1] = _detail(command, number, line, found[-1])
    return tuple(found)


def _detail(command: str, number: int, line: str, current: InterfaceAddresses) -> InterfaceAddresses:
    if match := _L3.match(line):
        try:
            ipaddress.ip_address(match["address"])
        except ValueError:
            raise ParseError(command, f"not an IP address: {match['address']!r}", number, line) from None
        address = L3Address(match["address"], int(match["length"]), (match["table"] or "").strip())
        return replace(current, addresses=(*current.addresses, address))
    if match := _BRIDGE.match(line):
        bridge = L2Bridge(int(match["bd"]), int(match["idx"]), int(match["shg"]), bool(match["bvi"]))
        return replace(current, bridge=bridge)
    if match := _XCONNECT.match(line):
        return replace(current, xconnect=match["peer"])
    if match := _UNNUMBERED.match(line):
        return replace(current, unnumbered=match["other"])
    raise ParseError(command, "expected an 'L2 bridge', 'L2 xconnect', 'L3' or 'unnumbered' line", number, line)


def render_show_addresses(interfaces: Iterable[InterfaceAddresses]) -> str:
    lines = []
    for item in interfaces:
        state = "up" if item.admin_up else "dn"
        lines.append(f"{item.interface} ({state}):" + (" " if item.unnumbered else ""))
        if item.unnumbered:
            lines.append(f"  unnumbered, use {item.unnumbered}")
        if item.bridge is not None:
            bridge = item.bridge
            lines.append(f"  L2 bridge bd-id {bridge.bd_id} idx {bridge.bd_index} shg {bridge.shg} "
                         + ("bvi" if bridge.bvi else " "))
        elif item.xconnect:
            lines.append(f"  L2 xconnect {item.xconnect}")
        for address in item.addresses:
            suffix = f" {address.table}" if address.table else ""
            lines.append(f"  L3 {address.address}/{address.prefixlen}{suffix}")
    return joined(lines)
