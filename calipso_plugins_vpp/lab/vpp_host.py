"""The ``vppctl`` commands of a lab host, answered from the host's VPP view at call time::

    shell = host_shell(model, "compute-0001", [vpp_commands(model, "compute-0001")])

A host without VPP (a controller) answers as bash does: 127. An unknown interface is
refused as VPP refuses it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from calipso_core.lab.linux_host import HostReader, command_not_found
from calipso_core.lab.shell import Handler
from calipso_core.lab.ssh import CommandOutput
from calipso_core.lab.switching import HostSwitching
from calipso_plugins_vpp.hostcli.address import render_show_addresses
from calipso_plugins_vpp.hostcli.hardware import HardwareTable, render_show_hardware
from calipso_plugins_vpp.hostcli.interface import render_show_interface
from calipso_plugins_vpp.hostcli.mode import render_show_mode
from calipso_plugins_vpp.hostcli.tap import render_show_tap
from calipso_plugins_vpp.hostcli.vxlan import render_show_vxlan
from calipso_plugins_vpp.lab import vpp_render as r

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

#: Each answer and the command words VPP accepts for it (unique prefixes are accepted too).
ALIASES = {
    "version": ("show version", "show ver"),
    "interface": ("show interface", "show interfaces", "show int"),
    "hardware": ("show hardware-interfaces", "show hardware", "show hardware-int"),
    "mode": ("show mode",),
    "addresses": ("show interface address", "show interface addr", "show int address", "show int addr"),
    "vxlan": ("show vxlan tunnel",),
    "tap": ("show tap",),
}


def vpp_commands(model: LabModel, host_name: str, program: str = "vppctl") -> dict[str, Handler]:
    """``vppctl show …`` of ``host_name`` as ``Shell`` patterns and handlers (for
    ``calipso_core.lab.linux_host.host_shell``'s ``extra_commands``)."""
    reader = HostReader(model, host_name)
    outputs: dict[str, Callable[[HostSwitching], str]] = {
        "version": lambda view: view.vpp.version + "\n",
        "interface": lambda view: render_show_interface(r.sw_interfaces(view)),
        "hardware": lambda view: render_show_hardware(HardwareTable(tuple(r.hw_interfaces(model, view)))),
        "mode": lambda view: render_show_mode(r.modes(view)),
        "addresses": lambda view: render_show_addresses(r.addresses(view)),
        "vxlan": lambda view: render_show_vxlan(r.tunnels(view)),
        "tap": lambda view: render_show_tap(r.taps(model, view)),
    }

    def has_vpp() -> bool:
        return reader.derive("has vpp", lambda view: view.vpp is not None)

    def all_outputs(view: HostSwitching) -> dict[str, bytes]:
        """Every answer at once, from one view (discovery asks them all in one batch), kept
        compressed: a tunnel host's tables list every tunnel."""
        return {key: zlib.compress(build(view).encode(), 1) for key, build in outputs.items()}

    def answer(key: str) -> Handler:
        def handler() -> CommandOutput | str:
            if not has_vpp():
                return command_not_found(program)
            return zlib.decompress(reader.derive("vppctl", all_outputs)[key]).decode()
        return handler

    def one_hardware(name: str) -> CommandOutput | str:
        if not has_vpp():
            return command_not_found(program)

        def build(view: HostSwitching) -> str | None:
            found = tuple(i for i in r.hw_interfaces(model, view) if i.name == name)
            return render_show_hardware(HardwareTable(found)) if found else None

        text = reader.derive(f"vppctl hardware {name}", build)
        return text if text is not None else CommandOutput(0, f"show hardware-interfaces: unknown input `{name}'\n", "")

    commands: dict[str, Handler] = {}
    for key, words in ALIASES.items():
        for spelling in words:
            commands[f"{program} {spelling}"] = answer(key)
    for spelling in ALIASES["hardware"]:
        commands[f"{program} {spelling} {{name}}"] = one_hardware
    return commands
