"""The command answers of a lab host's Linux side: iproute2, sysfs, ethtool, bonding,
bridge-utils, libvirt and the OS files, built from the model at call time.

``host_shell(model, host)`` is what the lab's SSH server runs for a host; plugins add
their tools' commands (Open vSwitch, VPP) through ``extra_commands``::

    shell = host_shell(model, "compute-0001", [ovs_commands(model, "compute-0001")])
    shell("ip netns list; echo '@@calipso-batch@@ 1' $?")

Answers follow the model as it changes: a host derives what it needs from
``host_switching`` once per model version (``HostReader``), and keeps the numbers its
kernel would (interface indexes, namespace ids) for as long as the shell lives. Unknown
devices, namespaces, files and domains are refused as the real tools refuse them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from calipso_core.hostcli.bonding import BOND_DIR, Bond, render_bond
from calipso_core.hostcli.brctl import render_brctl_show
from calipso_core.hostcli.bridge_fdb import render_bridge_fdb_show
from calipso_core.hostcli.ethtool import EthtoolInfo, render_ethtool
from calipso_core.hostcli.ip_netns import Namespace, render_ip_netns_list
from calipso_core.hostcli.libvirt_domain import Domain, DomainInterface, NovaMetadata
from calipso_core.hostcli.libvirt_xml import render_dumpxml
from calipso_core.hostcli.os_release import ARCHITECTURE_KEY, OsRelease, render_os_release
from calipso_core.hostcli.sys_class_net import render_ls_sys_class_net
from calipso_core.hostcli.virsh import DomainListEntry, render_virsh_list
from calipso_core.lab.linux_net import (
    HostInterfaces,
    Numbering,
    brctl_bridges,
    fdb_entries,
    host_interfaces,
    ip_commands,
    sysfs_entries,
)
from calipso_core.lab.records import Host
from calipso_core.lab.shell import Handler, Shell
from calipso_core.lab.ssh import CommandOutput
from calipso_core.lab.switching import Guest, GuestVif, HostSwitching, host_switching, network_peers

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

T = TypeVar("T")
OS_RELEASE = "/etc/os-release"
#: The Nova release that writes the domains' metadata (Yoga).
NOVA_PACKAGE = "25.2.1"
#: Outputs longer than this (characters) are kept compressed between calls.
COMPRESS_ABOVE = 32_768


def command_not_found(program: str) -> CommandOutput:
    """What bash answers for a program the host does not have."""
    return CommandOutput(127, "", f"bash: {program}: command not found\n")


def no_such_file(program: str, path: str) -> CommandOutput:
    return CommandOutput(1, "", f"{program}: {path}: No such file or directory\n")


class HostReader:
    """One lab host's view of the model, and what is derived from it, computed at most
    once per model version: ``derive(key, build)`` runs ``build(view)`` under the model's
    lock, so a derived value and the records it reads always belong to one version."""

    def __init__(self, model: LabModel, host_name: str):
        self.model, self.host_name = model, host_name
        self.host: Host = model.get("hosts", host_name)
        self._version = -1
        self._values: dict[str, Any] = {}
        self._together: dict[str, Callable[[HostSwitching], Any]] = {}

    def view(self) -> HostSwitching:
        return host_switching(self.model, self.host_name)

    def together(self, key: str, build: Callable[[HostSwitching], Any]) -> None:
        """Derive ``key`` with ``build`` too whenever the view is built for another key:
        for what is asked later, by commands with parameters (each NIC's ethtool, each
        domain's XML). A large lab keeps the views of only some hosts; this way a host's
        view is built once per model version, not again for these."""
        self._together[key] = build

    def derive(self, key: str, build: Callable[[HostSwitching], T]) -> T:
        with self.model.lock:  # also guards this reader's own values
            if self._version != self.model.version:
                self._values, self._version = {}, self.model.version
            if key not in self._values:
                view = self.view()
                self._values[key] = build(view)
                for other, make in self._together.items():
                    if other not in self._values:
                        self._values[other] = make(view)
            return self._values[key]

    def text(self, key: str, build: Callable[[HostSwitching], str]) -> str:
        """A command's output, rendered once per model version. Long outputs (a tunnel
        host's ``ovs-vsctl show`` lists every other host) are kept compressed, so that a
        thousand hosts' answers stay small."""

        def packed(view: HostSwitching) -> str | bytes:
            output = build(view)
            return zlib.compress(output.encode(), 1) if len(output) > COMPRESS_ABOVE else output

        value = self.derive(key, packed)
        return zlib.decompress(value).decode() if isinstance(value, bytes) else value


def host_shell(model: LabModel, host_name: str,
               extra_commands: Mapping[str, Handler] | Iterable[Mapping[str, Handler]] = ()) -> Shell:
    """The shell of lab host ``host_name``: the Linux commands plus ``extra_commands``,
    one mapping of patterns to handlers or several (a later pattern replaces an earlier
    one of the same text)."""
    commands = linux_commands(model, host_name)
    for more in [extra_commands] if isinstance(extra_commands, Mapping) else extra_commands:
        commands.update(more)
    return Shell(commands)


def linux_commands(model: LabModel, host_name: str) -> dict[str, Handler]:
    """The generic Linux, Linux bridge and libvirt commands of ``host_name``, as
    ``Shell`` patterns and handlers."""
    reader = HostReader(model, host_name)
    numbering = Numbering()

    def interfaces() -> HostInterfaces:
        return reader.derive("interfaces", lambda view: host_interfaces(view, numbering, network_mtu))

    def network_mtu(port_id: str) -> int:
        port = model.ports.get(port_id)
        network = model.networks.get(port.network_id) if port else None
        return network.mtu if network else 1500

    def netns_exec(ns: str, command: str) -> CommandOutput:
        members = interfaces().namespaces.get(ns)
        if members is None:
            return CommandOutput(1, "", f'Cannot open network namespace "{ns}": No such file or directory\n')
        return Shell(ip_commands(lambda: members)).run(command)

    def netns_list() -> str:
        netnsids = interfaces().netnsids
        return render_ip_netns_list(Namespace(name, netnsid) for name, netnsid in netnsids.items())

    def fdb() -> str:
        def remote_vteps(network_id: str) -> list[str]:
            return [h.tunnel_ip for h in network_peers(model, reader.host, network_id) if h.tunnel_ip]

        return reader.text("fdb", lambda view: render_bridge_fdb_show(fdb_entries(view, remote_vteps)))

    def nic_ethtool(view: HostSwitching) -> dict[str, CommandOutput | str]:
        return {pnic.name: ethtool(view, pnic.name) for pnic in view.host.pnics}

    def ethtool_of(dev: str) -> CommandOutput | str:
        found = reader.derive("ethtool", nic_ethtool).get(dev)
        return found if found is not None else reader.derive(f"ethtool {dev}", lambda view: ethtool(view, dev))

    reader.together("ethtool", nic_ethtool)
    commands: dict[str, Handler] = ip_commands(lambda: interfaces().root)
    commands |= {
        "ip netns list": netns_list,
        "ip netns exec {ns} {command*}": netns_exec,
        "ls -l /sys/class/net": lambda: reader.text("sysfs", lambda v: render_ls_sys_class_net(sysfs_entries(v))),
        "ethtool {dev}": ethtool_of,
        "cat {path}": lambda path: cat(reader, path),
        "brctl show": lambda: reader.text("brctl", lambda view: render_brctl_show(brctl_bridges(view))),
        "bridge fdb show": fdb,
        "uname": lambda: "Linux\n",
        "uname -r": lambda: reader.host.os.kernel + "\n",
        "uname -m": lambda: reader.host.os.architecture + "\n",
        "arch": lambda: reader.host.os.architecture + "\n",
        "hostname": lambda: reader.host.name + "\n",
    }
    commands |= virsh_commands(reader)
    return commands


# --- files ------------------------------------------------------------------------------------


def cat(reader: HostReader, path: str) -> CommandOutput | str:
    """``/etc/os-release``, ``/etc/hostname`` and ``/proc/net/bonding/<bond>``."""
    if path == OS_RELEASE:
        return render_os_release(os_release(reader.host))
    if path == "/etc/hostname":
        return reader.host.name + "\n"
    bond_name = path.removeprefix(BOND_DIR + "/")
    if bond_name != path:
        pnics = {p.name: p for p in reader.host.pnics}
        bond = pnics.get(bond_name)
        if bond is not None and bond.kind == "bond":
            return render_bond(Bond.active_backup(bond.name, {m: pnics[m].mac for m in bond.members}))
    return no_such_file("cat", path)


def os_release(host: Host) -> OsRelease:
    """The host's ``/etc/os-release`` fields in the order the distribution writes them."""
    os = host.os
    codename = os.version.partition("(")[2].split(" ")[0].lower()
    fields = {"PRETTY_NAME": os.pretty_name, "NAME": os.name, "VERSION_ID": os.version_id, "VERSION": os.version}
    if codename:
        fields["VERSION_CODENAME"] = codename
    fields |= {"ID": os.id, "ID_LIKE": os.id_like}
    if os.id == "ubuntu":
        fields |= {"HOME_URL": "https://www.ubuntu.com/", "SUPPORT_URL": "https://help.ubuntu.com/",
                   "BUG_REPORT_URL": "https://bugs.launchpad.net/ubuntu/",
                   "PRIVACY_POLICY_URL": "https://www.ubuntu.com/legal/terms-and-policies/privacy-policy",
                   "UBUNTU_CODENAME": codename}
    return OsRelease({k: v for k, v in fields.items() if v and k != ARCHITECTURE_KEY})


# --- ethtool ----------------------------------------------------------------------------------


def ethtool(view: HostSwitching, name: str) -> CommandOutput | str:
    device = next((d for d in view.devices if d.name == name), None)
    if device is None:
        stderr = "".join(f"Cannot get {what}: No such device\n" for what in (
            "device settings", "wake-on-lan settings", "message level", "link status"))
        return CommandOutput(75, f"Settings for {name}:\nNo data available\n", stderr)
    pnic = next((p for p in view.host.pnics if p.name == name), None)
    link = "yes" if device.state != "DOWN" else "no"
    if pnic is None or pnic.kind != "ether":
        speed = f"{pnic.speed_mbps}Mb/s" if pnic else ("10Mb/s" if device.kind == "tun" else "Unknown!")
        return render_ethtool(EthtoolInfo(name, {
            "Speed": speed, "Duplex": "Full" if pnic or device.kind == "tun" else "Unknown! (255)",
            "Port": "Other" if pnic else "Twisted Pair", "PHYAD": "0", "Transceiver": "internal",
            "Auto-negotiation": "off", "Link detected": link}))
    return render_ethtool(EthtoolInfo(name, physical_settings(pnic.speed_mbps, link)))


def physical_settings(speed_mbps: int, link: str) -> dict[str, str | tuple[str, ...]]:
    """A NIC's ``ethtool`` settings: copper up to 1G (auto-negotiated), fibre above."""
    copper = speed_mbps <= 1000
    modes: tuple[str, ...] = ("10baseT/Half 10baseT/Full", "100baseT/Half 100baseT/Full", "1000baseT/Full") \
        if copper else (f"{speed_mbps}baseSR/Full",)
    autoneg = "Yes" if copper else "No"
    fields: dict[str, str | tuple[str, ...]] = {
        "Supported ports": "[ TP ]" if copper else "[ FIBRE ]", "Supported link modes": modes,
        "Supported pause frame use": "Symmetric", "Supports auto-negotiation": autoneg,
        "Supported FEC modes": "Not reported", "Advertised link modes": modes,
        "Advertised pause frame use": "Symmetric", "Advertised auto-negotiation": autoneg,
        "Advertised FEC modes": "Not reported", "Speed": f"{speed_mbps}Mb/s", "Duplex": "Full",
        "Auto-negotiation": "on" if copper else "off", "Port": "Twisted Pair" if copper else "FIBRE",
        "PHYAD": "1" if copper else "0", "Transceiver": "internal",
    }
    if copper:
        fields["MDI-X"] = "off (auto)"
    fields |= {"Supports Wake-on": "pumbg" if copper else "d", "Wake-on": "g" if copper else "d",
               "Current message level": ("0x00000007 (7)", "drv probe link"), "Link detected": link}
    return fields


# --- virsh ------------------------------------------------------------------------------------


def virsh_commands(reader: HostReader) -> dict[str, Handler]:
    """``virsh list [--all]`` and ``virsh dumpxml <id|name|uuid>`` (compute hosts only)."""

    def listing(all_domains: bool) -> CommandOutput | str:
        if reader.host.hypervisor is None:
            return command_not_found("virsh")

        def table(view: HostSwitching) -> str:
            running = sorted((g for g in view.guests if g.domain_id is not None), key=lambda g: g.domain_id)
            stopped = sorted((g for g in view.guests if g.domain_id is None), key=lambda g: g.libvirt_name)
            shown = running + stopped if all_domains else running
            return render_virsh_list(DomainListEntry(g.domain_id, g.libvirt_name, g.state) for g in shown)

        return reader.text(f"virsh list {all_domains}", table)

    def dumpxml(domain: str) -> CommandOutput | str:
        if reader.host.hypervisor is None:
            return command_not_found("virsh")
        xml = reader.derive("dumpxml", domain_xml).get(domain)
        return xml if xml is not None else CommandOutput(1, "", f"error: failed to get domain '{domain}'\n")

    def domain_xml(view: HostSwitching) -> dict[str, str]:
        """Every domain's XML by what names it: running id, then uuid and libvirt name."""
        found = {}
        for guest in view.guests:
            xml = render_dumpxml(guest_domain(reader.model, guest))
            found.setdefault(guest.instance_id, xml)
            found.setdefault(guest.libvirt_name, xml)
        running = {str(g.domain_id): found[g.instance_id] for g in view.guests if g.domain_id is not None}
        return running | {key: xml for key, xml in found.items() if key not in running}

    reader.together("dumpxml", domain_xml)
    return {"virsh list": lambda: listing(False), "virsh list --all": lambda: listing(True),
            "virsh dumpxml {domain}": dumpxml}


def guest_domain(model: LabModel, guest: Guest) -> Domain:
    """The libvirt domain of ``guest`` as Nova defined it: its flavor, owner and image in
    Nova's metadata and one ``<interface>`` per port. A domain that is shut off has no id,
    and its interfaces no target device (libvirt made none) and no alias."""
    instance = model.instances[guest.instance_id]
    flavor = model.flavors[instance.flavor]
    project = model.projects.get(instance.project_id)
    user = model.users.get(instance.user_id)
    nova = NovaMetadata(
        name=guest.display_name, package_version=NOVA_PACKAGE,
        creation_time=instance.created_at.replace("T", " ").removesuffix("Z"), flavor_name=flavor.name,
        flavor={"memory": str(flavor.ram), "disk": str(flavor.disk), "swap": "0", "ephemeral": "0",
                "vcpus": str(flavor.vcpus)},
        user_uuid=user.id if user else instance.user_id, user_name=user.name if user else None,
        project_uuid=instance.project_id, project_name=project.name if project else None,
        root_type="image", root_uuid=instance.image_id,
    )
    running = guest.domain_id is not None
    interfaces = tuple(_domain_interface(model, vif, slot, running) for slot, vif in enumerate(guest.vifs))
    return Domain(guest.libvirt_name, guest.instance_id, guest.domain_id, "kvm", flavor.ram * 1024, flavor.vcpus,
                  nova, interfaces)


def _domain_interface(model: LabModel, vif: GuestVif, slot: int, running: bool) -> DomainInterface:
    port = model.ports.get(vif.port_id)
    network = model.networks.get(port.network_id) if port else None
    bridge = vif.interface_type == "bridge"
    source = {"bridge": vif.source} if bridge else {"type": "unix", "path": vif.source, "mode": "server"}
    return DomainInterface(
        type=vif.interface_type, mac=vif.mac, source=source, target_dev=vif.target_dev if running else None,
        model="virtio", driver="vhost" if bridge else None, alias=f"net{slot}" if running else None,
        address={"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": f"0x{slot + 3:02x}", "function": "0x0"},
        mtu=network.mtu if network else None,
    )
