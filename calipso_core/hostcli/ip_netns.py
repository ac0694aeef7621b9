"""``ip netns list``: the network namespaces of a host, one a line.

Newer iproute2 adds the namespace id when one is assigned::

    qdhcp-413de095-01ed-49dc-aa50-4479f43d390e (id: 2)
    qrouter-9ec3d703-0725-47e3-8f48-02b16236caf9
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, numbered_lines

IP_NETNS_LIST = "ip netns list"
_LINE = re.compile(r"^(\S+)(?: \(id: (\d+)\))?$")


@dataclass(frozen=True)
class Namespace:
    """A network namespace: its name and, if the kernel assigned one, its id."""

    name: str
    netnsid: int | None = None


def ip_netns_exec(namespace: str, command: str) -> str:
    """The command line that runs ``command`` inside ``namespace``."""
    return f"ip netns exec {namespace} {command}"


def parse_ip_netns_list(text: str, command: str = IP_NETNS_LIST) -> tuple[Namespace, ...]:
    """The namespaces listed by ``ip netns list``, in the order printed."""
    namespaces = []
    for number, line in numbered_lines(text):
        if not line.strip():
            continue
        match = _LINE.match(line.rstrip())
        if not match:
            raise ParseError(command, "expected '<namespace>' or '<namespace> (id: <n>)'", number, line)
        name, netnsid = match.groups()
        namespaces.append(Namespace(name, int(netnsid) if netnsid is not None else None))
    return tuple(namespaces)


def render_ip_netns_list(namespaces: Iterable[Namespace]) -> str:
    """The text ``ip netns list`` prints for ``namespaces``."""
    return joined(
        [ns.name if ns.netnsid is None else f"{ns.name} (id: {ns.netnsid})" for ns in namespaces]
    )
