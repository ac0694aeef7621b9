"""What a Linux host says about its interfaces, namespaces, bonds and libvirt domains,
gathered in two SSH round trips and read once per scan.

Round one asks what is there (namespaces, interfaces, sysfs, domains); round two asks
about each thing found (addresses inside each namespace, ethtool per physical NIC, each
bond, the XML of every domain). Round one can carry a plugin's commands too (``also``),
whose outputs the plugin takes later with ``host_outputs``: one round trip fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from calipso_core.errors import CalipsoError
from calipso_core.hostcli.batch import BatchResult
from calipso_core.hostcli.bonding import Bond, bond_command, parse_bond
from calipso_core.hostcli.ethtool import EthtoolInfo, ethtool_command, parse_ethtool
from calipso_core.hostcli.ip_link import IP_ADDRESS_SHOW, IP_D_ADDRESS_SHOW, Interface, parse_ip_address_show
from calipso_core.hostcli.ip_netns import IP_NETNS_LIST, ip_netns_exec, parse_ip_netns_list
from calipso_core.hostcli.libvirt_domain import Domain, parse_dumpxml, virsh_dumpxml
from calipso_core.hostcli.os_release import CAT_OS_RELEASE, OsRelease, parse_os_release
from calipso_core.hostcli.sys_class_net import LS_SYS_CLASS_NET, parse_ls_sys_class_net
from calipso_core.hostcli.virsh import VIRSH_LIST, parse_virsh_list
from calipso_core.hostshell import outputs_of, run_batch, run_commands
from calipso_core.scan.context import ScanContext


@dataclass
class HostState:
    """One host's Linux networking and libvirt state."""

    host: str
    os_release: OsRelease | None = None
    interfaces: dict[str, Interface] = field(default_factory=dict)
    physical: list[str] = field(default_factory=list)
    ethtool: dict[str, EthtoolInfo] = field(default_factory=dict)
    bonds: dict[str, Bond] = field(default_factory=dict)
    namespaces: dict[str, tuple[Interface, ...]] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)  # by uuid
    #: What the ``also`` commands of round one printed, until ``host_outputs`` takes it.
    gathered: dict[str, BatchResult] = field(default_factory=dict)
    stderr: str = ""


def gather(ctx: ScanContext, host: str, with_domains: bool, also: Sequence[str] = ()) -> HostState:
    first = [IP_NETNS_LIST, IP_D_ADDRESS_SHOW, LS_SYS_CLASS_NET, CAT_OS_RELEASE]
    if with_domains:
        first.append(VIRSH_LIST)
    also = [c for c in dict.fromkeys(also) if c not in first]
    parts, stderr = run_batch(ctx, host, first + also)
    out = outputs_of(host, parts[: len(first)], stderr)
    state = HostState(host, os_release=parse_os_release(out[CAT_OS_RELEASE]), stderr=stderr)
    state.gathered = {part.command: part for part in parts[len(first) :]}
    state.interfaces = {i.name: i for i in parse_ip_address_show(out[IP_D_ADDRESS_SHOW], IP_D_ADDRESS_SHOW)}
    entries = parse_ls_sys_class_net(out[LS_SYS_CLASS_NET])
    state.physical = sorted(e.name for e in entries if e.is_physical)
    bonds = sorted(name for name, i in state.interfaces.items() if i.kind == "bond")
    namespaces = [ns.name for ns in parse_ip_netns_list(out[IP_NETNS_LIST])]
    domains = parse_virsh_list(out[VIRSH_LIST]) if with_domains else ()
    # A domain or namespace may be gone by round two (an instance deleted, a router
    # removed meanwhile): its command then fails, and it is left out, as it would be now.

    second = {("ethtool", n): ethtool_command(n) for n in state.physical}
    second |= {("bond", n): bond_command(n) for n in bonds}
    second |= {("netns", n): ip_netns_exec(n, IP_ADDRESS_SHOW) for n in namespaces}
    second |= {("domain", d.name): virsh_dumpxml(d.id if d.id is not None else d.name) for d in domains}
    vanishing = {command for (kind, _), command in second.items() if kind in ("domain", "netns")}
    if not second:
        return state
    parts, stderr = run_batch(ctx, host, list(second.values()))
    gone = {part.command for part in parts if part.exit_status != 0 and part.command in vanishing}
    out = outputs_of(host, [part for part in parts if part.command not in gone], stderr)
    for (kind, name), command in second.items():
        if command in gone:
            continue
        text = out[command]
        if kind == "ethtool":
            state.ethtool[name] = parse_ethtool(text, command)
        elif kind == "bond":
            state.bonds[name] = parse_bond(text, name, command)
        elif kind == "netns":
            state.namespaces[name] = parse_ip_address_show(text, command)
        else:
            domain = parse_dumpxml(text, command)
            state.domains[domain.uuid] = domain
    return state


def host_state(ctx: ScanContext, host: str, also: Sequence[str] = ()) -> HostState:
    """The host's state, gathered once per scan (a failure is remembered, not retried).
    Domains are read on hosts that run nova-compute. ``also``: commands to run in the
    first round trip if this call is the one that gathers (see ``host_outputs``)."""
    return ctx.cached(("hoststate", host), lambda: gather(ctx, host, is_compute(ctx, host), also))


def host_outputs(ctx: ScanContext, host: str, commands: Sequence[str]) -> dict[str, str]:
    """The stdout of each of ``commands`` on ``host``: taken from its state if they were
    gathered with it (each once), else run now in one round trip. A command that exited
    non-zero raises ``CommandFailed``."""
    try:
        state = host_state(ctx, host)
    except CalipsoError:  # the host's own fetchers report it; these commands may still work
        return run_commands(ctx, host, commands)
    parts = [state.gathered.pop(command, None) for command in commands]
    if None in parts:
        return run_commands(ctx, host, commands)
    return outputs_of(host, parts, state.stderr)


def is_compute(ctx: ScanContext, host: str) -> bool:
    return "Compute" in ctx.cached(("host_type", host), lambda: [])
