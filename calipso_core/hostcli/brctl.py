"""``brctl show``: the Linux bridges of a host and their interfaces.

Tab-separated; a bridge's second and later interfaces are on continuation lines of
seven tabs::

    bridge name\tbridge id\t\tSTP enabled\tinterfaces
    br-ex\t\t8000.005056acc9a2\tno\t\teno33554952
    \t\t\t\t\t\t\tp_ff798dba-0
    br-int\t\t8000.000000000000\tno
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined

BRCTL_SHOW = "brctl show"
HEADER = "bridge name\tbridge id\t\tSTP enabled\tinterfaces"
_CONTINUATION = "\t" * 7
_BRIDGE_ID = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{12}$")


@dataclass(frozen=True)
class Bridge:
    """A Linux bridge: name, id (``<priority>.<mac>``), STP on or off, its interfaces."""

    name: str
    bridge_id: str
    stp_enabled: bool = False
    interfaces: tuple[str, ...] = ()


def parse_brctl_show(text: str, command: str = BRCTL_SHOW) -> tuple[Bridge, ...]:
    """The bridges ``brctl show`` lists, with the interfaces of continuation lines."""
    lines = body_lines(text)
    if not lines or lines[0][1].split() != HEADER.split():
        number, line = lines[0] if lines else (1, "")
        raise ParseError(command, "expected the header 'bridge name  bridge id  STP enabled  interfaces'",
                         number, line)
    bridges: list[Bridge] = []
    for number, line in lines[1:]:
        if line.startswith("\t"):
            if not bridges or not line.strip() or len(line.split()) != 1:
                raise ParseError(command, "continuation line without a bridge or with more than an interface",
                                 number, line)
            bridges[-1] = replace(bridges[-1], interfaces=(*bridges[-1].interfaces, line.strip()))
        else:
            bridges.append(_parse_bridge_line(command, number, line))
    return tuple(bridges)


def _parse_bridge_line(command: str, number: int, line: str) -> Bridge:
    words = line.split()
    if len(words) not in (3, 4):
        raise ParseError(command, "expected '<name> <bridge id> <yes|no> [<interface>]'", number, line)
    if not _BRIDGE_ID.match(words[1]):
        raise ParseError(command, f"not a bridge id: {words[1]!r}", number, line)
    if words[2] not in ("yes", "no"):
        raise ParseError(command, f"STP enabled must be yes or no, not {words[2]!r}", number, line)
    return Bridge(words[0], words[1], words[2] == "yes", tuple(words[3:]))


def render_brctl_show(bridges: Iterable[Bridge]) -> str:
    """The text ``brctl show`` prints for ``bridges``."""
    lines = [HEADER]
    for bridge in bridges:
        first, *others = bridge.interfaces or ("",)
        stp = "yes" if bridge.stp_enabled else "no"
        lines.append(f"{bridge.name}\t\t{bridge.bridge_id}\t{stp}\t\t{first}")
        lines.extend(_CONTINUATION + name for name in others)
    return joined(lines)
