"""``ovs-vsctl show``, ``ovs-vsctl list-br`` and ``ovs-vsctl list-ifaces BR``: the Open
vSwitch configuration of a host.

``show`` nests by four spaces: the switch's UUID, then managers and bridges, their
controllers and ports, the ports' interfaces and their settings::

    3b12f08e-4e13-4976-8da5-23314b268805
        Bridge br-tun
            fail_mode: secure
            Port "vxlan-c0a80203"
                Interface "vxlan-c0a80203"
                    type: vxlan
                    options: {df_default="true", in_key=flow, local_ip="192.168.2.1", remote_ip="192.168.2.3"}
        ovs_version: "2.5.0"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, numbered_lines
from calipso_plugins_openstack.hostcli.ovsdb_show_tree import Item, parse_tree
from calipso_plugins_openstack.hostcli.ovsdb_text import (
    ValueSyntaxError,
    parse_atom,
    parse_int_set,
    parse_map,
    quote,
    render_int_set,
    render_map,
)

OVS_VSCTL_SHOW = "ovs-vsctl show"
OVS_VSCTL_LIST_BR = "ovs-vsctl list-br"
INDENT = "    "
PORT_INDENT, INTERFACE_INDENT = INDENT * 2, INDENT * 3

#: Other ``key: value`` lines of a record, the value exactly as printed.
Other = tuple[tuple[str, str], ...]


def ovs_vsctl_list_ifaces(bridge: str) -> str:
    return f"ovs-vsctl list-ifaces {bridge}"


@dataclass(frozen=True, slots=True)
class OvsInterface:
    """An interface of a port: ``type`` ``""`` for a system NIC (no ``type`` line),
    ``internal``, ``patch``, ``vxlan``...; ``options`` such as ``peer`` or ``remote_ip``."""

    name: str
    type: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    other: Other = ()

    @property
    def remote_ip(self) -> str | None:
        return self.options.get("remote_ip")


@dataclass(frozen=True, slots=True)
class OvsPort:
    """A port of a bridge: its VLAN ``tag`` (local VLAN of a Neutron network), trunks
    and interfaces (one, or several for a bond)."""

    name: str
    tag: int | None = None
    trunks: tuple[int, ...] = ()
    interfaces: tuple[OvsInterface, ...] = ()
    other: Other = ()


@dataclass(frozen=True, slots=True)
class OvsRemote:
    """A ``Manager`` of the switch or a ``Controller`` of a bridge."""

    target: str
    is_connected: bool | None = None
    other: Other = ()


@dataclass(frozen=True, slots=True)
class OvsBridge:
    name: str
    controllers: tuple[OvsRemote, ...] = ()
    fail_mode: str | None = None
    datapath_type: str | None = None
    ports: tuple[OvsPort, ...] = ()
    other: Other = ()


@dataclass(frozen=True, slots=True)
class OvsSwitch:
    """The whole ``ovs-vsctl show``: the Open_vSwitch row's UUID and what hangs under it."""

    uuid: str
    managers: tuple[OvsRemote, ...] = ()
    bridges: tuple[OvsBridge, ...] = ()
    ovs_version: str | None = None
    other: Other = ()

    def bridge(self, name: str) -> OvsBridge | None:
        return next((b for b in self.bridges if b.name == name), None)


def parse_ovs_vsctl_show(text: str, command: str = OVS_VSCTL_SHOW) -> OvsSwitch:
    """The switch, bridges, ports and interfaces in ``ovs-vsctl show`` output."""
    return _switch(parse_tree(text, command, {"Port": _read_plain_ports}))


_ATOM = r'"[^"\\\n]*"|[^\s"]+'
#: A port with one interface and nothing else but a tag, type and options (nearly all of
#: them: a tunnel port to every other host, a port per vNIC), followed by no deeper line.
_PLAIN_PORT = re.compile(
    rf"{PORT_INDENT}Port (?P<port>{_ATOM})\n"
    rf"(?:{PORT_INDENT}{INDENT}tag: (?P<tag>[0-9]+)\n)?"
    rf"{PORT_INDENT}{INDENT}Interface (?P<interface>{_ATOM})\n"
    rf"(?:{INTERFACE_INDENT}{INDENT}type: (?P<type>{_ATOM})\n)?"
    rf"(?:{INTERFACE_INDENT}{INDENT}options: (?P<options>{{[^\n]*}})\n)?"
    rf"(?=(?:[ \t]*\n)*(?: {{0,8}}[^ \n]| *\Z))"
)


def _read_plain_ports(text: str, start: int) -> tuple[tuple[OvsPort, ...], int] | None:
    """The port at ``start`` and those after it read by one pattern each, as ``_port``
    would read them; None if the first is any other port (or for any doubt: ``_port``
    then reads it line by line and names the error)."""
    ports, position, match_at = [], start, _PLAIN_PORT.match
    while (match := match_at(text, position)) is not None:
        tag, kind, options = match.group("tag", "type", "options")
        try:
            interface = OvsInterface(parse_atom(match["interface"]), parse_atom(kind) if kind else "",
                                     parse_map(options) if options else {})
        except ValueSyntaxError:
            break
        ports.append(OvsPort(parse_atom(match["port"]), int(tag) if tag else None, interfaces=(interface,)))
        position = match.end()
    return (tuple(ports), position) if ports else None


def _settings(item: Item, known: frozenset[str], nested: tuple[str, ...]) -> tuple[dict, Other, dict]:
    """Split an item's children into known settings (by key), other settings and the
    nested items (by kind); any other nested kind is a ParseError."""
    values: dict = {}
    other: list[tuple[str, str]] = []
    children: dict[str, list[Item]] = {kind: [] for kind in nested}
    for child in item.children:
        if child.kind is None:
            if child.key in known:
                values[child.key] = _convert(child)
            else:
                other.append((child.key, child.value))
        elif child.kind in children:
            children[child.kind].append(child)
        else:
            raise ParseError(item.command, f"'{child.kind}' cannot be inside '{item.kind}'", child.number, child.line)
    return values, tuple(other), children


def _convert(item: Item):
    """A known setting's value as its record field wants it."""
    try:
        return _CONVERTERS.get(item.key, parse_atom)(item.value)
    except ValueSyntaxError as exc:
        raise ParseError(item.command, f"{item.key}: {exc}", item.number, item.line) from None


def _name(item: Item) -> str:
    try:
        return parse_atom(item.value)
    except ValueSyntaxError as exc:
        raise ParseError(item.command, f"{item.kind} name: {exc}", item.number, item.line) from None


def _tag(value: str) -> int:
    if not value.isdigit():
        raise ValueSyntaxError(f"a VLAN tag is a number, not {value!r}")
    return int(value)


#: How known settings are read (the others are atoms).
_CONVERTERS = {"tag": _tag, "trunks": parse_int_set, "options": parse_map, "is_connected": "true".__eq__}


def _switch(root: Item) -> OvsSwitch:
    values, other, children = _settings(root, frozenset({"ovs_version"}), ("Manager", "Bridge"))
    managers = tuple(map(_remote, children["Manager"]))
    return OvsSwitch(root.value, managers, tuple(map(_bridge, children["Bridge"])), **values, other=other)


def _remote(item: Item) -> OvsRemote:
    values, other, _ = _settings(item, frozenset({"is_connected"}), ())
    return OvsRemote(_name(item), **values, other=other)


def _bridge(item: Item) -> OvsBridge:
    values, other, children = _settings(item, frozenset({"fail_mode", "datapath_type"}), ("Controller", "Port"))
    controllers = tuple(map(_remote, children["Controller"]))
    ports = tuple(port for child in children["Port"] for port in child.parsed or (_port(child),))
    return OvsBridge(_name(item), controllers, **values, ports=ports, other=other)


def _port(item: Item) -> OvsPort:
    values, other, children = _settings(item, frozenset({"tag", "trunks"}), ("Interface",))
    return OvsPort(_name(item), **values, interfaces=tuple(map(_interface, children["Interface"])), other=other)


def _interface(item: Item) -> OvsInterface:
    values, other, _ = _settings(item, frozenset({"type", "options", "error"}), ())
    return OvsInterface(_name(item), **values, other=other)


def render_ovs_vsctl_show(switch: OvsSwitch) -> str:
    """The text ``ovs-vsctl show`` prints for ``switch``."""
    lines = [switch.uuid]
    for manager in switch.managers:
        lines += _remote_lines("Manager", manager, 1)
    for bridge in switch.bridges:
        lines.append(f"{INDENT}Bridge {quote(bridge.name)}")
        for controller in bridge.controllers:
            lines += _remote_lines("Controller", controller, 2)
        lines += _setting_lines(2, fail_mode=bridge.fail_mode, datapath_type=bridge.datapath_type)
        lines += _other_lines(2, bridge.other)
        for port in bridge.ports:
            lines += _port_lines(port)
    lines += _other_lines(1, switch.other)
    lines += _setting_lines(1, ovs_version=switch.ovs_version)
    return joined(lines)


def _remote_lines(kind: str, remote: OvsRemote, depth: int) -> list[str]:
    lines = [f"{INDENT * depth}{kind} {quote(remote.target)}"]
    if remote.is_connected is not None:
        lines.append(f"{INDENT * (depth + 1)}is_connected: {'true' if remote.is_connected else 'false'}")
    return lines + _other_lines(depth + 1, remote.other)


def _port_lines(port: OvsPort) -> list[str]:
    lines = [f"{PORT_INDENT}Port {quote(port.name)}"]
    if port.tag is not None:
        lines.append(f"{PORT_INDENT}{INDENT}tag: {port.tag}")
    if port.trunks:
        lines.append(f"{PORT_INDENT}{INDENT}trunks: {render_int_set(port.trunks)}")
    if port.other:
        lines += _other_lines(3, port.other)
    for interface in port.interfaces:
        lines.append(f"{PORT_INDENT}{INDENT}Interface {quote(interface.name)}")
        if interface.type:
            lines.append(f"{INTERFACE_INDENT}{INDENT}type: {quote(interface.type)}")
        if interface.options:
            lines.append(f"{INTERFACE_INDENT}{INDENT}options: {render_map(interface.options)}")
        if interface.error is not None:
            lines.append(f"{INTERFACE_INDENT}{INDENT}error: {quote(interface.error)}")
        if interface.other:
            lines += _other_lines(4, interface.other)
    return lines


def _setting_lines(depth: int, **settings: str | None) -> list[str]:
    return [f"{INDENT * depth}{key}: {quote(value)}" for key, value in settings.items() if value is not None]


def _other_lines(depth: int, other: Other) -> list[str]:
    return [f"{INDENT * depth}{key}: {value}" for key, value in other]


def parse_ovs_vsctl_names(text: str, command: str = OVS_VSCTL_LIST_BR) -> tuple[str, ...]:
    """The names ``ovs-vsctl list-br`` or ``list-ifaces BR`` prints, one a line."""
    names = []
    for number, line in numbered_lines(text):
        if not line.strip():
            continue
        if len(line.split()) != 1:
            raise ParseError(command, "expected one name a line", number, line)
        names.append(line.strip())
    return tuple(names)


def render_ovs_vsctl_names(names: Iterable[str]) -> str:
    """The text of ``ovs-vsctl list-br`` / ``list-ifaces``: names sorted, one a line."""
    return joined(sorted(names))
