"""The Open vSwitch commands of a lab host: ``ovs-vsctl show``, ``list-br``,
``list-ifaces BR`` and ``ovs-dpctl show``, answered from the host's OVS bridges in the
model (``host_switching``) at call time.

The switch is what the OVS agent builds: ``br-int`` (instance ``qvo`` ports and the
DHCP/router ``tap``/``qr-``/``qg-`` internal ports, each tagged with its network's local
VLAN), ``br-tun`` (a vxlan port to every other tunnel host of the region), ``br-prv`` and
``br-ex`` (the physical NIC), joined by patch ports. In the kernel datapath
``system@ovs-system`` every port but the patch ports has a number, kept while the port
exists (the lowest free one for a new port), and all vxlan ports share
``vxlan_sys_4789``. A host without Open vSwitch answers as bash does: 127.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from calipso_core.lab.linux_host import HostReader, command_not_found
from calipso_core.lab.linux_net import NumberRegistry
from calipso_core.lab.shell import Handler
from calipso_core.lab.ssh import CommandOutput
from calipso_core.lab.switching import HostSwitching, OvsBridge
from calipso_plugins_openstack.hostcli.ovs_dpctl import Datapath, DatapathPort, render_ovs_dpctl_show
from calipso_plugins_openstack.hostcli.ovs_vsctl import (
    OvsBridge as ShownBridge,
)
from calipso_plugins_openstack.hostcli.ovs_vsctl import (
    OvsInterface,
    OvsPort,
    OvsRemote,
    OvsSwitch,
    render_ovs_vsctl_names,
    render_ovs_vsctl_show,
)

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

OVS_VERSION = "2.17.9"  # Ubuntu 22.04's
MANAGER = "ptcp:6640:127.0.0.1"
CONTROLLER = "tcp:127.0.0.1:6633"  # the OVS agent's native OpenFlow controller
DATAPATH = "system@ovs-system"
TUNNEL_DEVICE = "vxlan_sys_4789"


def ovs_commands(model: LabModel, host_name: str) -> dict[str, Handler]:
    """The Open vSwitch commands of ``host_name``, as ``Shell`` patterns and handlers
    (for ``calipso_core.lab.linux_host.host_shell``'s ``extra_commands``)."""
    reader = HostReader(model, host_name)
    numbers = NumberRegistry(1, reuse_lowest=True)

    def has_ovs() -> bool:
        return reader.derive("has ovs", lambda view: bool(view.ovs_bridges))

    def show() -> CommandOutput | str:
        if not has_ovs():
            return command_not_found("ovs-vsctl")
        return reader.text("show", lambda view: render_ovs_vsctl_show(shown_switch(host_name, view.ovs_bridges)))

    def list_br() -> CommandOutput | str:
        if not has_ovs():
            return command_not_found("ovs-vsctl")
        return reader.text("list-br", lambda view: render_ovs_vsctl_names(b.name for b in view.ovs_bridges))

    def list_ifaces(bridge: str) -> CommandOutput | str:
        if not has_ovs():
            return command_not_found("ovs-vsctl")

        def names(view: HostSwitching) -> str | None:
            match = next((b for b in view.ovs_bridges if b.name == bridge), None)
            return render_ovs_vsctl_names(p.name for p in match.ports if p.name != match.name) if match else None

        text = reader.derive(f"list-ifaces {bridge}", names)
        return text if text is not None else CommandOutput(1, "", f"ovs-vsctl: no bridge named {bridge}\n")

    def dpctl_show() -> CommandOutput | str:
        datapath = reader.derive("datapath", lambda view: kernel_datapath(view, numbers))
        return render_ovs_dpctl_show([datapath]) if datapath else command_not_found("ovs-dpctl")

    return {"ovs-vsctl show": show, "ovs-vsctl list-br": list_br, "ovs-vsctl list-ifaces {bridge}": list_ifaces,
            "ovs-dpctl show": dpctl_show}


def switch_uuid(host_name: str) -> str:
    """The Open_vSwitch row's UUID: random on a real host, fixed per lab host."""
    return str(uuid.UUID(bytes=hashlib.md5(f"{host_name}/Open_vSwitch".encode()).digest(), version=4))


def shown_switch(host_name: str, bridges: tuple[OvsBridge, ...]) -> OvsSwitch:
    """The switch as ``ovs-vsctl show`` prints it: the agent's manager, each bridge with
    its controller, secure fail mode and ports."""
    return OvsSwitch(
        switch_uuid(host_name), (OvsRemote(MANAGER, True),),
        tuple(ShownBridge(b.name, (OvsRemote(CONTROLLER, True),), "secure", b.datapath_type, tuple(
            OvsPort(p.name, p.tag, interfaces=(OvsInterface(p.name, p.interface_type, dict(p.options)),))
            for p in b.ports)) for b in bridges),
        OVS_VERSION,
    )


def kernel_datapath(view: HostSwitching, numbers: NumberRegistry) -> Datapath | None:
    """``system@ovs-system`` with its ports numbered by ``numbers`` (which remembers
    them); None without Open vSwitch."""
    if not view.ovs_bridges:
        return None
    kinds: dict[str, str | None] = {b.name: "internal" for b in view.ovs_bridges}
    for bridge in view.ovs_bridges:
        for port in bridge.ports:
            if port.interface_type == "vxlan":
                kinds[TUNNEL_DEVICE] = "vxlan"
            elif port.interface_type != "patch":
                kinds.setdefault(port.name, port.interface_type or None)
    assigned = numbers.assign(kinds)
    ports = [DatapathPort(0, "ovs-system", "internal")]
    ports += [DatapathPort(assigned[name], name, kind, {"packet_type": "ptap"} if kind == "vxlan" else {})
              for name, kind in kinds.items()]
    flows = 2 * len(ports)
    stats = (("lookups", f"hit:{flows * 1193} missed:{flows * 37} lost:0"), ("flows", str(flows)),
             ("masks", f"hit:{flows * 1511} total:{len(view.ovs_bridges)} hit/pkt:1.21"))
    return Datapath(DATAPATH, stats, tuple(sorted(ports, key=lambda p: p.number)))
