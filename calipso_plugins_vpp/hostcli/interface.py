"""``vppctl show interface``: the software interfaces, their state and counters.

Two layouts: VPP up to 17.x has no MTU column, later versions have one::

                  Name               Idx       State          Counter          Count
    TenGigabitEthernetc/0/0           5         up       rx packets                502022
                                                         rx bytes               663436206
    local0                            0        down

                  Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
    TenGigabitEthernet5/0/0           1      up          9000/0/0/0     rx packets                  1520

Columns are fixed-width (``%-32s %=5d %=16s`` or ``%=10s %=21s``); non-zero counters
follow, the first on the interface's line, the others below it at the same column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined, to_int
from calipso_plugins_vpp.hostcli._columns import centred, left, vppctl_command

SHOW_INTERFACE = "show interface"
_MTU_TITLE = "MTU (L3/IP4/IP6/MPLS)"
#: (title, width) of each header column, without and with the MTU column.
PLAIN_COLUMNS = (("Name", 32), ("Idx", 5), ("State", 16), ("Counter", 16), ("Count", 16))
MTU_COLUMNS = (("Name", 32), ("Idx", 5), ("State", 10), (_MTU_TITLE, 21), ("Counter", 16), ("Count", 16))


@dataclass(frozen=True)
class SwInterface:
    """One software interface: ``state`` is ``up``, ``down`` or ``error``; ``mtu`` the
    L3/IP4/IP6/MPLS MTUs (None in the layout without them); ``counters`` the non-zero
    ones in the order printed."""

    name: str
    index: int
    state: str
    mtu: tuple[int, int, int, int] | None = None
    counters: tuple[tuple[str, int], ...] = ()

    @property
    def is_up(self) -> bool:
        return self.state.startswith("up")

    @property
    def sub_id(self) -> int | None:
        """The sub-interface id of ``<interface>.<id>`` (VLAN sub-interfaces), else None."""
        base, dot, sub = self.name.rpartition(".")
        return int(sub) if dot and base and sub.isdigit() else None


def _header(columns) -> str:
    return "".join(centred(title, width) for title, width in columns)


def parse_show_interface(text: str, command: str = vppctl_command(SHOW_INTERFACE)) -> tuple[SwInterface, ...]:
    lines = body_lines(text)
    number, header = lines[0] if lines else (1, "")
    if header.split() == _header(PLAIN_COLUMNS).split():
        with_mtu = False
    elif header.split() == _header(MTU_COLUMNS).split():
        with_mtu = True
    else:
        raise ParseError(command, "expected the header 'Name Idx State [MTU (L3/IP4/IP6/MPLS)] Counter Count'",
                         number, header)
    rows: list[tuple[SwInterface, list[tuple[str, int]]]] = []  # each row and the counters below it
    for number, line in lines[1:]:
        if not line.strip():
            raise ParseError(command, "blank line inside the table", number, line)
        if line[0].isspace():
            if not rows:
                raise ParseError(command, "counter line before any interface", number, line)
            rows[-1][1].append(_counter(command, number, line, line.split()))
        else:
            interface = _row(command, number, line, with_mtu)
            rows.append((interface, list(interface.counters)))
    return tuple(SwInterface(i.name, i.index, i.state, i.mtu, tuple(counters)) for i, counters in rows)


def _row(command: str, number: int, line: str, with_mtu: bool) -> SwInterface:
    words = line.split()
    fixed = 4 if with_mtu else 3
    if len(words) < fixed or len(words) == fixed + 1:
        raise ParseError(command, "expected '<name> <index> <state>" + (" <mtu>" if with_mtu else "")
                         + " [<counter> <count>]'", number, line)
    mtu = _mtu(command, number, line, words[3]) if with_mtu else None
    counters = (_counter(command, number, line, words[fixed:]),) if len(words) > fixed else ()
    return SwInterface(words[0], to_int(command, number, line, words[1], "the index"), words[2], mtu, counters)


def _mtu(command: str, number: int, line: str, text: str) -> tuple[int, int, int, int]:
    parts = text.split("/")
    if len(parts) != 4:
        raise ParseError(command, f"MTU must be L3/IP4/IP6/MPLS, not {text!r}", number, line)
    l3, ip4, ip6, mpls = (to_int(command, number, line, p, "an MTU") for p in parts)
    return l3, ip4, ip6, mpls


def _counter(command: str, number: int, line: str, words: list[str]) -> tuple[str, int]:
    if len(words) < 2:
        raise ParseError(command, "expected '<counter name> <count>'", number, line)
    return " ".join(words[:-1]), to_int(command, number, line, words[-1], "a count")


def render_show_interface(interfaces: Iterable[SwInterface]) -> str:
    """The table, with the MTU column when the interfaces have MTUs (all or none)."""
    interfaces = list(interfaces)
    with_mtu = any(i.mtu is not None for i in interfaces)
    if with_mtu and not all(i.mtu is not None for i in interfaces):
        raise ValueError("either every interface has an MTU or none has")
    lines = [_header(MTU_COLUMNS if with_mtu else PLAIN_COLUMNS)]
    for interface in interfaces:
        prefix = left(interface.name, 32) + centred(str(interface.index), 5)
        if interface.mtu is not None:
            prefix += centred(interface.state, 10) + centred("/".join(map(str, interface.mtu)), 21)
        else:
            prefix += centred(interface.state, 16)
        if not interface.counters:
            lines.append(prefix)
        for position, (name, count) in enumerate(interface.counters):
            start = prefix if position == 0 else " " * len(prefix)
            lines.append(f"{start}{left(name, 16)}{count:>16}")
    return joined(lines)
