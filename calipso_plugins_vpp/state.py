"""What VPP says on one host, read in one SSH round trip and kept for the scan.

Seven ``vppctl`` commands are batched: ``show version``, ``show interface``, ``show
hardware-interfaces``, ``show mode``, ``show interface address``, ``show vxlan tunnel``
and ``show tap``. Every VPP fetcher of the host reads the same parsed state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from calipso_core.environments import config_section
from calipso_core.hostshell import run_commands
from calipso_core.scan.context import ScanContext
from calipso_plugins_vpp.hostcli.address import SHOW_ADDRESSES, InterfaceAddresses, parse_show_addresses
from calipso_plugins_vpp.hostcli.hardware import SHOW_HARDWARE, HardwareTable, HwInterface, parse_show_hardware
from calipso_plugins_vpp.hostcli.interface import SHOW_INTERFACE, SwInterface, parse_show_interface
from calipso_plugins_vpp.hostcli.mode import BRIDGE, SHOW_MODE, InterfaceMode, parse_show_mode
from calipso_plugins_vpp.hostcli.tap import SHOW_TAP, TapInterface, parse_show_tap
from calipso_plugins_vpp.hostcli.version import SHOW_VERSION, VppVersion, parse_show_version
from calipso_plugins_vpp.hostcli.vxlan import SHOW_VXLAN, VxlanTunnel, parse_show_vxlan

DEFAULT_VPPCTL = "vppctl"
#: Host types that run VPP (networking-vpp's agent runs where Neutron plugs ports).
VPP_HOST_TYPES = ("Compute", "Network")
#: Interfaces VPP drives on a physical NIC (named after the NIC's speed and PCI address).
PNIC_NAME = re.compile(r"^[A-Za-z]*GigabitEthernet[0-9a-fA-F]+(/[0-9a-fA-F]+)*$")


@dataclass(frozen=True)
class VppState:
    """One host's VPP: its build, interfaces (software, hardware, addresses, modes),
    vxlan tunnels and taps."""

    host: str
    version: VppVersion
    interfaces: tuple[SwInterface, ...]
    hardware: HardwareTable
    modes: tuple[InterfaceMode, ...]
    addresses: tuple[InterfaceAddresses, ...]
    tunnels: tuple[VxlanTunnel, ...]
    taps: tuple[TapInterface, ...]

    @cached_property
    def interface(self) -> dict[str, SwInterface]:
        return {i.name: i for i in self.interfaces}

    @cached_property
    def hardware_of(self) -> dict[str, HwInterface]:
        return self.hardware.by_name()

    @cached_property
    def addresses_of(self) -> dict[str, InterfaceAddresses]:
        return {a.interface: a for a in self.addresses}

    @cached_property
    def tunnel(self) -> dict[str, VxlanTunnel]:
        return {t.name: t for t in self.tunnels}

    @cached_property
    def tap(self) -> dict[str, TapInterface]:
        return {t.name: t for t in self.taps}

    @cached_property
    def bridge_domains(self) -> dict[int, tuple[str, ...]]:
        """Bridge-domain id → its member interfaces, in ``show mode`` order."""
        domains: dict[int, list[str]] = {}
        for mode in self.modes:
            if mode.mode == BRIDGE and mode.bd_id is not None:
                domains.setdefault(mode.bd_id, []).append(mode.interface)
        return {bd: tuple(members) for bd, members in domains.items()}

    @cached_property
    def pnics(self) -> tuple[SwInterface, ...]:
        """The interfaces on physical NICs (not their VLAN sub-interfaces)."""
        return tuple(i for i in self.interfaces if PNIC_NAME.match(i.name))

    def ipv4(self, name: str) -> tuple[str, int] | None:
        """The first IPv4 address (and prefix length) of interface ``name``."""
        found = self.addresses_of.get(name)
        first = found.ipv4[0] if found and found.ipv4 else None
        return (first.address, first.prefixlen) if first else None


def vppctl(ctx: ScanContext) -> str:
    """How to run vppctl on the environment's hosts (the ``VPP`` section, optional)."""
    section = config_section(ctx.environment, "VPP") or {}
    return section.get("vppctl") or DEFAULT_VPPCTL


def runs_vpp(ctx: ScanContext, host: str) -> bool:
    """Whether ``host`` runs VPP: a compute or network host (its types, as the host
    fetcher found them)."""
    return bool(set(ctx.cached(("host_type", host), lambda: [])) & set(VPP_HOST_TYPES))


def gather(ctx: ScanContext, host: str) -> VppState:
    program = vppctl(ctx)
    parts = {command: f"{program} {command}" for command in (
        SHOW_VERSION, SHOW_INTERFACE, SHOW_HARDWARE, SHOW_MODE, SHOW_ADDRESSES, SHOW_VXLAN, SHOW_TAP)}
    out = run_commands(ctx, host, list(parts.values()))

    def text(command: str) -> str:
        return out[parts[command]]

    return VppState(
        host=host,
        version=parse_show_version(text(SHOW_VERSION), parts[SHOW_VERSION]),
        interfaces=parse_show_interface(text(SHOW_INTERFACE), parts[SHOW_INTERFACE]),
        hardware=parse_show_hardware(text(SHOW_HARDWARE), parts[SHOW_HARDWARE]),
        modes=parse_show_mode(text(SHOW_MODE), parts[SHOW_MODE]),
        addresses=parse_show_addresses(text(SHOW_ADDRESSES), parts[SHOW_ADDRESSES]),
        tunnels=parse_show_vxlan(text(SHOW_VXLAN), parts[SHOW_VXLAN]),
        taps=parse_show_tap(text(SHOW_TAP), parts[SHOW_TAP]),
    )


def vpp_state(ctx: ScanContext, host: str) -> VppState:
    """The host's VPP state, read once per scan (a failure is remembered, not retried)."""
    return ctx.cached(("vppstate", host), lambda: gather(ctx, host))
