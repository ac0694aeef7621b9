"""The ``vxlan`` line of ``ip -d link show``: what a Linux bridge host's OTEP is made of.

::

        vxlan id 42 group 239.1.1.1 local 192.168.2.3 dev eth1 srcport 0 0 dstport 8472 ageing 300
"""

from __future__ import annotations

from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import to_int

_ADDRESS_KEYS = ("remote", "group", "local", "dev")


@dataclass(frozen=True, slots=True)
class Vxlan:
    """A VXLAN device's settings: VNI, peer (``remote``) or multicast ``group``, ``local``
    tunnel address, underlay ``dev``, UDP ports; ``extra`` keeps the other words
    (``ttl 32``, ``ageing 300``, ``udpcsum``...) in the order printed."""

    vni: int
    remote: str | None = None
    group: str | None = None
    local: str | None = None
    dev: str | None = None
    srcport: tuple[int, int] | None = None
    dstport: int | None = None
    extra: tuple[str, ...] = ()


def parse_vxlan_words(command: str, number: int, line: str, words: list[str]) -> Vxlan:
    """A :class:`Vxlan` from the words after ``vxlan`` on a ``-d`` line."""
    fields: dict = {}
    extra: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        width = 3 if word == "srcport" else 2
        if word in ("id", "dstport", "srcport", *_ADDRESS_KEYS):
            values = words[i + 1 : i + width]
            if len(values) != width - 1:
                raise ParseError(command, f"'{word}' without its value", number, line)
            if word in _ADDRESS_KEYS:
                fields[word] = values[0]
            else:
                numbers = tuple(to_int(command, number, line, v, f"vxlan {word}") for v in values)
                fields["vni" if word == "id" else word] = numbers if word == "srcport" else numbers[0]
            i += width
        else:
            extra.append(word)
            i += 1
    if "vni" not in fields:
        raise ParseError(command, "vxlan line without 'id'", number, line)
    return Vxlan(**fields, extra=tuple(extra))


def render_vxlan(vxlan: Vxlan) -> str:
    """The line (without indent) iproute2 prints for ``vxlan``."""
    words = ["vxlan", "id", str(vxlan.vni)]
    for key in _ADDRESS_KEYS:
        value = getattr(vxlan, key)
        if value is not None:
            words += [key, value]
    if vxlan.srcport is not None:
        words += ["srcport", str(vxlan.srcport[0]), str(vxlan.srcport[1])]
    if vxlan.dstport is not None:
        words += ["dstport", str(vxlan.dstport)]
    return " ".join([*words, *vxlan.extra])
