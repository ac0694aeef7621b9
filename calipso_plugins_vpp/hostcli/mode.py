"""``vppctl show mode``: each interface's forwarding mode, in interface index order::

    l3 local0
    l2 bridge TenGigabitEthernetc/0/0 bd_id 5678 shg 0
    l2 bridge loop0 bd_id 7 bvi shg 0
    l2 xconnect GigabitEthernet0/8/0.300 GigabitEthernet0/9/0.300

VPP prints ``%s %U %v`` with a single-space argument for l3, so those lines end with two
spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined
from calipso_plugins_vpp.hostcli._columns import vppctl_command

SHOW_MODE = "show mode"
L3, BRIDGE, XCONNECT = "l3", "l2 bridge", "l2 xconnect"
_L3 = re.compile(r"^l3 (?P<name>\S+)\s*$")
_BRIDGE = re.compile(r"^l2 bridge (?P<name>\S+) bd_id (?P<bd>\d+)(?P<bvi> bvi)? shg (?P<shg>\d+)\s*$")
_XCONNECT = re.compile(r"^l2 xconnect (?P<name>\S+) (?P<peer>\S+)\s*$")


@dataclass(frozen=True)
class InterfaceMode:
    """``mode`` is l3, l2 bridge (with ``bd_id``, split-horizon group ``shg`` and whether
    it is the bridge's ``bvi``) or l2 xconnect (with the ``peer`` it is wired to)."""

    interface: str
    mode: str = L3
    bd_id: int | None = None
    shg: int | None = None
    bvi: bool = False
    peer: str | None = None


def parse_show_mode(text: str, command: str = vppctl_command(SHOW_MODE)) -> tuple[InterfaceMode, ...]:
    modes = []
    for number, line in body_lines(text):
        if match := _L3.match(line):
            modes.append(InterfaceMode(match["name"]))
        elif match := _BRIDGE.match(line):
            modes.append(InterfaceMode(match["name"], BRIDGE, int(match["bd"]), int(match["shg"]), bool(match["bvi"])))
        elif match := _XCONNECT.match(line):
            modes.append(InterfaceMode(match["name"], XCONNECT, peer=match["peer"]))
        else:
            raise ParseError(command, "expected 'l3 <if>', 'l2 bridge <if> bd_id <n> [bvi] shg <n>' or "
                                      "'l2 xconnect <if> <if>'", number, line)
    return tuple(modes)


def render_show_mode(modes: Iterable[InterfaceMode]) -> str:
    lines = []
    for mode in modes:
        if mode.mode == BRIDGE:
            bvi = " bvi" if mode.bvi else ""
            lines.append(f"{BRIDGE} {mode.interface} bd_id {mode.bd_id}{bvi} shg {mode.shg or 0}")
        elif mode.mode == XCONNECT:
            lines.append(f"{XCONNECT} {mode.interface} {mode.peer}")
        else:
            lines.append(f"{L3} {mode.interface}  ")
    return joined(lines)
