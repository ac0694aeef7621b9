"""``bridge fdb show``: the forwarding database of the host's bridges and VXLAN devices.

One entry a line, words in iproute2's fixed order; a VXLAN device's entries name the
remote tunnel endpoint after ``dst``::

    33:33:00:00:00:01 dev eno1 self permanent
    fa:16:3e:2e:e5:3b dev tap1f72bd15-8a master brq2e3b85f4-75
    00:00:00:00:00:00 dev vxlan-52 dst 192.168.2.4 self permanent
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import check_mac, joined, numbered_lines, to_int

BRIDGE_FDB_SHOW = "bridge fdb show"
FLAGS = ("self", "router", "extern_learn", "offload")
STATES = ("permanent", "static", "stale")
_TEXT_KEYS = ("dev", "dst", "via")
_NUMBER_KEYS = ("vlan", "port", "vni", "src_vni", "link-netnsid")


@dataclass(frozen=True)
class FdbEntry:
    """One forwarding entry: MAC, device, optional tunnel ``dst`` and numbers, ``flags``
    (among self/router/extern_learn/offload), ``master`` bridge and ``state``
    (``permanent``, ``static``, ``stale`` or ``""`` for a learned entry)."""

    mac: str
    dev: str | None = None
    dst: str | None = None
    vlan: int | None = None
    port: int | None = None
    vni: int | None = None
    src_vni: int | None = None
    via: str | None = None
    link_netnsid: int | None = None
    flags: tuple[str, ...] = ()
    master: str | None = None
    state: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.flags) - set(FLAGS)
        if unknown or self.state not in ("", *STATES):
            raise ValueError(f"fdb entry {self.mac}: unknown flags {sorted(unknown)} or state {self.state!r}")
        object.__setattr__(self, "flags", tuple(f for f in FLAGS if f in self.flags))


def parse_bridge_fdb_show(text: str, command: str = BRIDGE_FDB_SHOW) -> tuple[FdbEntry, ...]:
    """The entries ``bridge fdb show`` lists."""
    return tuple(
        _parse_entry(command, number, line) for number, line in numbered_lines(text) if line.strip()
    )


def _parse_entry(command: str, number: int, line: str) -> FdbEntry:
    words = line.split()
    fields: dict = {"mac": check_mac(command, number, line, words[0])}
    flags: list[str] = []
    i = 1
    while i < len(words):
        word = words[i]
        if word in FLAGS:
            flags.append(word)
        elif word in STATES and i == len(words) - 1:
            fields["state"] = word
        elif word == "master" and (i + 1 == len(words) or words[i + 1] in STATES):
            fields["master"] = ""  # iproute2 prints a bare 'master' when the bridge is unnamed
        elif word in (*_TEXT_KEYS, *_NUMBER_KEYS, "master") and i + 1 < len(words):
            value = words[i + 1]
            key = word.replace("-", "_")
            fields[key] = to_int(command, number, line, value, word) if word in _NUMBER_KEYS else value
            i += 1
        elif word in (*_TEXT_KEYS, *_NUMBER_KEYS):
            raise ParseError(command, f"'{word}' without a value", number, line)
        else:
            raise ParseError(command, f"unknown word {word!r} in an fdb entry", number, line)
        i += 1
    return FdbEntry(**fields, flags=tuple(flags))


def render_bridge_fdb_show(entries: Iterable[FdbEntry]) -> str:
    """The text ``bridge fdb show`` prints for ``entries`` (each word followed by a space,
    the state last)."""
    lines = []
    for entry in entries:
        words = [entry.mac]
        for key in (*_TEXT_KEYS[:2], "vlan", "port", "vni", "src_vni", "via", "link-netnsid"):
            value = getattr(entry, key.replace("-", "_"))
            if value is not None:
                words += [key, str(value)]
        words += entry.flags
        if entry.master is not None:
            words += ["master", entry.master] if entry.master else ["master"]
        lines.append("".join(w + " " for w in words) + entry.state)
    return joined(lines)
