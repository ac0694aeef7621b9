"""``vppctl show hardware-interfaces [<name>]``: the hardware interfaces, each a row and
indented detail lines (link speed, queues, ``Ethernet address``, the driver's own lines)::

                  Name                Idx   Link  Hardware
    TenGigabitEthernetc/0/0            5     up   TenGigabitEthernetc/0/0
      Ethernet address 00:25:b5:99:00:5c
      Cisco VIC
        carrier up full duplex speed 40000 mtu 1500  promisc

Rows are ``%-32s %=6d %=8s`` then the device name. Detail lines are kept as printed (they
differ by driver and version); the parser reads the MAC and link speed from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import check_mac, joined, numbered_lines
from calipso_plugins_vpp.hostcli._columns import centred, left, vppctl_command

SHOW_HARDWARE = "show hardware-interfaces"
HEADER = centred("Name", 32) + centred("Idx", 6) + centred("Link", 8) + "Hardware"
LINKS = ("up", "down", "slave")
_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<index>\d+)\s+(?P<link>\S+)\s+(?P<hardware>\S.*)$")
_MAC = re.compile(r"^\s+Ethernet address (\S+)\s*$")
_SPEED = re.compile(r"^\s+Link speed: (.+?)\s*$")


@dataclass(frozen=True)
class HwInterface:
    """One hardware interface: ``link`` up, down or slave; ``hardware`` the device name;
    ``details`` the indented lines below the row, as printed."""

    name: str
    index: int
    link: str
    hardware: str
    details: tuple[str, ...] = ()

    @property
    def mac(self) -> str | None:
        """The ``Ethernet address`` line's MAC, if the interface has one."""
        return next((m.group(1) for m in map(_MAC.match, self.details) if m), None)

    @property
    def link_speed(self) -> str | None:
        """What the ``Link speed:`` line says (VPP 18.10 and later), e.g. ``10 Gbps``."""
        return next((m.group(1) for m in map(_SPEED.match, self.details) if m), None)


@dataclass(frozen=True)
class HardwareTable:
    """The interfaces and the header line as printed (its spacing varies between versions)."""

    interfaces: tuple[HwInterface, ...]
    header: str = field(default=HEADER)

    def by_name(self) -> dict[str, HwInterface]:
        return {i.name: i for i in self.interfaces}


def parse_show_hardware(text: str, command: str = vppctl_command(SHOW_HARDWARE)) -> HardwareTable:
    lines = list(numbered_lines(text))
    number, header = lines[0] if lines else (1, "")
    if header.split() != HEADER.split():
        raise ParseError(command, "expected the header 'Name Idx Link Hardware'", number, header)
    rows: list[tuple[HwInterface, list[str]]] = []  # each row and the detail lines below it
    for number, line in lines[1:]:
        if not line or line[0].isspace():
            if not rows:
                raise ParseError(command, "detail line before any interface", number, line)
            _check_detail(command, number, line)
            rows[-1][1].append(line)
            continue
        match = _ROW.match(line)
        if not match or match["link"] not in LINKS:
            raise ParseError(command, "expected '<name> <index> <up|down|slave> <hardware>'", number, line)
        rows.append((HwInterface(match["name"], int(match["index"]), match["link"], match["hardware"]), []))
    return HardwareTable(tuple(HwInterface(i.name, i.index, i.link, i.hardware, tuple(details)) for i, details in rows),
                         header)


def _check_detail(command: str, number: int, line: str) -> None:
    match = _MAC.match(line)
    if match:
        check_mac(command, number, line, match.group(1))


def render_show_hardware(table: HardwareTable | Iterable[HwInterface]) -> str:
    if not isinstance(table, HardwareTable):
        table = HardwareTable(tuple(table))
    lines = [table.header]
    for interface in table.interfaces:
        lines.append(left(interface.name, 32) + centred(str(interface.index), 6) + centred(interface.link, 8)
                     + interface.hardware)
        lines.extend(interface.details)
    return joined(lines)
