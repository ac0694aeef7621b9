"""``ls -l /sys/class/net``: every interface of a host as a link into the device tree.

A physical NIC links to its bus device, a virtual one (bridge, tap, veth, vxlan...) into
``/devices/virtual/``::

    total 0
    lrwxrwxrwx 1 root root 0 Jul  5 17:17 eno16777728 -> ../../devices/0000:02:00.0/net/eno16777728
    lrwxrwxrwx 1 root root 0 Jul  5 17:17 br-int -> ../../devices/virtual/net/br-int
    -rw-r--r-- 1 root root 4096 Jul  5 17:17 bonding_masters
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, numbered_lines

LS_SYS_CLASS_NET = "ls -l /sys/class/net"
_MODE = re.compile(r"^[-lbcdps][-rwxsStT]{9}[.+@]?$")
_TOTAL = re.compile(r"^total \d+$")


@dataclass(frozen=True)
class NetDeviceEntry:
    """One entry of ``/sys/class/net``: ``target`` is where the link points (None for a
    plain file such as ``bonding_masters``); ``modified`` as ``ls`` prints it
    (``Jul  5 17:17``); ``group`` None when ``ls`` printed no group column."""

    name: str
    target: str | None
    mode: str = "lrwxrwxrwx"
    links: int = 1
    owner: str = "root"
    group: str | None = "root"
    size: int = 0
    modified: str = "Jan  1 00:00"

    @property
    def is_interface(self) -> bool:
        """True for a link to a network device (not a file like ``bonding_masters``)."""
        return self.target is not None

    @property
    def is_virtual(self) -> bool:
        """True for a software interface (its device sits under ``/devices/virtual/``)."""
        return self.target is not None and "/virtual/" in self.target

    @property
    def is_physical(self) -> bool:
        """True for an interface backed by hardware (a bus device: PCI, USB, platform)."""
        return self.target is not None and not self.is_virtual


def parse_ls_sys_class_net(text: str, command: str = LS_SYS_CLASS_NET) -> tuple[NetDeviceEntry, ...]:
    """The entries ``ls -l /sys/class/net`` lists (its ``total`` line is skipped)."""
    entries = []
    for number, line in numbered_lines(text):
        if not line.strip() or (not entries and _TOTAL.match(line.strip())):
            continue
        entries.append(_parse_entry(command, number, line))
    return tuple(entries)


def _parse_entry(command: str, number: int, line: str) -> NetDeviceEntry:
    words = line.split()
    target = None
    if "->" in words:
        arrow = words.index("->")
        if arrow != len(words) - 2:
            raise ParseError(command, "expected '<name> -> <target>' at the end", number, line)
        target, words = words[-1], words[:arrow]
    if len(words) not in (8, 9) or not _MODE.match(words[0]):
        raise ParseError(command, "expected '<mode> <links> <owner> [<group>] <size> <month> <day> "
                         "<time> <name>'", number, line)
    if not words[1].isdigit() or not words[-5].isdigit() or not words[-3].isdigit():
        raise ParseError(command, "links, size and day must be numbers", number, line)
    month, day, time = words[-4:-1]
    return NetDeviceEntry(
        name=words[-1],
        target=target,
        mode=words[0],
        links=int(words[1]),
        owner=words[2],
        group=words[3] if len(words) == 9 else None,
        size=int(words[-5]),
        modified=f"{month} {day:>2} {time:>5}",
    )


def render_ls_sys_class_net(entries: Iterable[NetDeviceEntry]) -> str:
    """The text ``ls -l /sys/class/net`` prints for ``entries``: a ``total`` line, then
    the columns aligned the way ``ls`` aligns them."""
    entries = list(entries)
    width = {
        key: max((len(str(getattr(e, key) or "")) for e in entries), default=0)
        for key in ("links", "owner", "group", "size")
    }
    lines = ["total 0"]
    for e in entries:
        words = [e.mode, str(e.links).rjust(width["links"]), e.owner.ljust(width["owner"])]
        if e.group is not None:
            words.append(e.group.ljust(width["group"]))
        words += [str(e.size).rjust(width["size"]), e.modified, e.name]
        if e.target is not None:
            words += ["->", e.target]
        lines.append(" ".join(words))
    return joined(lines)
