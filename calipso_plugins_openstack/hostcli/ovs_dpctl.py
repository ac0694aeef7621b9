"""``ovs-dpctl show``: the kernel datapaths of Open vSwitch and their numbered ports.

::

    system@ovs-system:
    \tlookups: hit:14039304 missed:35687906 lost:0
    \tflows: 4
    \tmasks: hit:95173613 total:2 hit/pkt:1.91
    \tport 0: ovs-system (internal)
    \tport 3: vxlan_sys_4789 (vxlan: df_default=false, ttl=0)
    \tport 4: eth1
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, numbered_lines

OVS_DPCTL_SHOW = "ovs-dpctl show"
_PORT = re.compile(r"^\tport (\d+): (\S+)(?: \(([^:)]+)(?:: ([^)]*))?\))?$")
_STAT = re.compile(r"^\t(\s*[^\s:][^:]*):(?: (.*))?$")


@dataclass(frozen=True)
class DatapathPort:
    """A datapath port: its number, name, type (``internal``, ``vxlan``...; None for a
    system NIC) and type options."""

    number: int
    name: str
    type: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.type == "internal"


@dataclass(frozen=True)
class Datapath:
    """A datapath (``system@ovs-system``): its statistics lines as (key, value) in the
    order printed, and its ports."""

    name: str
    stats: tuple[tuple[str, str], ...] = ()
    ports: tuple[DatapathPort, ...] = ()

    @property
    def flows(self) -> int | None:
        value = dict(self.stats).get("flows")
        return int(value) if value and value.isdigit() else None


def parse_ovs_dpctl_show(text: str, command: str = OVS_DPCTL_SHOW) -> tuple[Datapath, ...]:
    """The datapaths in ``ovs-dpctl show`` output."""
    datapaths: list[tuple[str, list, list]] = []
    for number, line in numbered_lines(text):
        if not line.strip():
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":") or " " in line.strip():
                raise ParseError(command, "expected '<type>@<datapath>:'", number, line)
            datapaths.append((line.rstrip()[:-1], [], []))
        elif not datapaths:
            raise ParseError(command, "indented line before the first datapath", number, line)
        elif line.startswith("\tport "):
            datapaths[-1][2].append(_parse_port(command, number, line))
        elif match := _STAT.match(line.rstrip()):
            datapaths[-1][1].append((match.group(1), match.group(2) or ""))
        else:
            raise ParseError(command, "expected '<key>: <value>' or 'port <n>: <name>'", number, line)
    return tuple(Datapath(name, tuple(stats), tuple(ports)) for name, stats, ports in datapaths)


def _parse_port(command: str, number: int, line: str) -> DatapathPort:
    match = _PORT.match(line.rstrip())
    if not match:
        raise ParseError(command, "expected 'port <n>: <name> [(<type>[: <options>])]'", number, line)
    port, name, kind, options = match.groups()
    parsed: dict[str, str] = {}
    for option in filter(None, (options or "").split(", ")):
        key, equals, value = option.partition("=")
        if not equals:
            raise ParseError(command, f"port option {option!r} is not key=value", number, line)
        parsed[key] = value
    return DatapathPort(int(port), name, kind, parsed)


def render_ovs_dpctl_show(datapaths: Iterable[Datapath]) -> str:
    """The text ``ovs-dpctl show`` prints for ``datapaths``."""
    lines: list[str] = []
    for datapath in datapaths:
        lines.append(f"{datapath.name}:")
        lines += [f"\t{key}: {value}" if value else f"\t{key}:" for key, value in datapath.stats]
        lines += [_render_port(port) for port in datapath.ports]
    return joined(lines)


def _render_port(port: DatapathPort) -> str:
    line = f"\tport {port.number}: {port.name}"
    if port.type is None:
        return line
    if not port.options:
        return f"{line} ({port.type})"
    options = ", ".join(f"{k}={v}" for k, v in port.options.items())
    return f"{line} ({port.type}: {options})"
