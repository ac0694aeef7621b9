"""``vppctl show tap``: the tap (virtio) interfaces whose kernel end VPP created, each a
title and indented lines (VPP 19.04 and later)::

    Interface: tap0 (ifindex 3)
      name "ns-6f1c1f38-ab"
      host-ns "qdhcp-53f0c4a6-2c2d-4f6b-9d8e-0c5f1e0a7b11"
      host-mac-addr: fa:16:3e:12:34:56
      host-carrier-up: 1
      ...

The parser keeps every line and reads the kernel end from them: its name, namespace and
MAC — how a namespace's device is matched to the VPP interface it is plugged into.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, check_mac, joined
from calipso_plugins_vpp.hostcli._columns import vppctl_command

SHOW_TAP = "show tap"
_TITLE = re.compile(r"^Interface: (?P<name>\S+) \(ifindex (?P<index>\d+)\)$")
_QUOTED = re.compile(r'^  (?P<key>name|host-ns|host-mtu-size) "(?P<value>[^"]*)"$')
_HOST_MAC = re.compile(r"^  host-mac-addr: (?P<mac>\S+)$")


@dataclass(frozen=True)
class TapInterface:
    """A tap interface: its VPP ``name``, ``ifindex`` and the detail lines as printed."""

    name: str
    ifindex: int
    details: tuple[str, ...] = ()

    def _quoted(self, key: str) -> str | None:
        return next((m["value"] for m in map(_QUOTED.match, self.details) if m and m["key"] == key), None)

    @property
    def host_if_name(self) -> str | None:
        """The kernel end's device name."""
        return self._quoted("name")

    @property
    def host_ns(self) -> str | None:
        """The network namespace the kernel end sits in (None: the root namespace)."""
        return self._quoted("host-ns")

    @property
    def host_mac(self) -> str | None:
        return next((m["mac"] for m in map(_HOST_MAC.match, self.details) if m), None)


def parse_show_tap(text: str, command: str = vppctl_command(SHOW_TAP)) -> tuple[TapInterface, ...]:
    taps: list[tuple[TapInterface, list[str]]] = []  # each title and the lines below it
    for number, line in body_lines(text):
        if match := _TITLE.match(line):
            taps.append((TapInterface(match["name"], int(match["index"])), []))
            continue
        if not taps or (line and not line[0].isspace()):
            raise ParseError(command, "expected 'Interface: <name> (ifindex <n>)' or an indented line",
                             number, line)
        if match := _HOST_MAC.match(line):
            check_mac(command, number, line, match["mac"])
        taps[-1][1].append(line)
    return tuple(TapInterface(tap.name, tap.ifindex, tuple(details)) for tap, details in taps)


def render_show_tap(taps: Iterable[TapInterface]) -> str:
    lines = []
    for tap in taps:
        lines.append(f"Interface: {tap.name} (ifindex {tap.ifindex})")
        lines.extend(tap.details)
    return joined(lines)
