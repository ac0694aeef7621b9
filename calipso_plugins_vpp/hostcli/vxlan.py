"""``vppctl show vxlan tunnel``: one line per tunnel (with a trailing space; cut here), or a notice::

    [0] instance 0 src 172.16.0.10 dst 172.16.0.11 src_port 4789 dst_port 4789 vni 1001 fib-idx 0 sw-if-idx 5 \
    encap-dpo-idx 7
    No vxlan tunnels configured...

VPP before 21.01 prints no ``src_port``/``dst_port``; anything after ``encap-dpo-idx``
(``decap-next-…``, ``mcast-sw-if-idx N``, flow offload) is kept as ``extra``. The tunnel's
interface is ``vxlan_tunnel<instance>``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined
from calipso_plugins_vpp.hostcli._columns import vppctl_command

SHOW_VXLAN = "show vxlan tunnel"
NO_TUNNELS = "No vxlan tunnels configured..."
VXLAN_PORT = 4789
_LINE = re.compile(
    r"^\[(?P<index>\d+)\] instance (?P<instance>\d+) src (?P<src>\S+) dst (?P<dst>\S+)"
    r"(?: src_port (?P<src_port>\d+) dst_port (?P<dst_port>\d+))? vni (?P<vni>\d+) fib-idx (?P<fib>\d+)"
    r" sw-if-idx (?P<sw>\d+) encap-dpo-idx (?P<dpo>\d+)(?: (?P<extra>.*))?$")


@dataclass(frozen=True)
class VxlanTunnel:
    index: int
    instance: int
    src: str
    dst: str
    vni: int
    sw_if_index: int
    src_port: int | None = VXLAN_PORT
    dst_port: int | None = VXLAN_PORT
    fib_index: int = 0
    encap_dpo_index: int = 0
    extra: str = ""

    @property
    def name(self) -> str:
        """The tunnel's interface name."""
        return f"vxlan_tunnel{self.instance}"


def parse_show_vxlan(text: str, command: str = vppctl_command(SHOW_VXLAN)) -> tuple[VxlanTunnel, ...]:
    lines = body_lines(text)
    if [line for _, line in lines] == [NO_TUNNELS]:
        return ()
    tunnels = []
    for number, line in lines:
        match = _LINE.match(line)
        if not match:
            raise ParseError(command, "expected '[<n>] instance <n> src <ip> dst <ip> ... vni <n> fib-idx <n> "
                                      "sw-if-idx <n> encap-dpo-idx <n>'", number, line)
        for key in ("src", "dst"):
            try:
                ipaddress.ip_address(match[key])
            except ValueError:
                raise ParseError(command, f"{key} is not an IP address: {match[key]!r}", number, line) from None
        ports = {k: int(match[k]) if match[k] else None for k in ("src_port", "dst_port")}
        tunnels.append(VxlanTunnel(
            int(match["index"]), int(match["instance"]), match["src"], match["dst"], int(match["vni"]),
            int(match["sw"]), fib_index=int(match["fib"]), encap_dpo_index=int(match["dpo"]),
            extra=(match["extra"] or "").strip(), **ports))
    return tuple(tunnels)


def render_show_vxlan(tunnels: Iterable[VxlanTunnel]) -> str:
    lines = []
    for t in tunnels:
        ports = f" src_port {t.src_port} dst_port {t.dst_port}" if t.src_port is not None else ""
        extra = f"{t.extra} " if t.extra else ""
        lines.append(f"[{t.index}] instance {t.instance} src {t.src} dst {t.dst}{ports} vni {t.vni} "
                     f"fib-idx {t.fib_index} sw-if-idx {t.sw_if_index} encap-dpo-idx {t.encap_dpo_index} {extra}")
    return joined(lines or [NO_TUNNELS])
