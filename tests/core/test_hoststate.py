"""A host's state over real SSH: a plugin's commands ride the first round trip and are
taken once; one of them failing fails only its reader."""

from __future__ import annotations

import pytest

from calipso_core.errors import CommandFailed
from calipso_core.hostcli.brctl import BRCTL_SHOW, parse_brctl_show
from calipso_core.hoststate import host_outputs, host_state
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.linux_host import host_shell
from calipso_core.lab.model import LabSpec
from calipso_core.lab.ssh import LabSshServer
from calipso_core.scan.context import ScanContext

HOST = "network-1"


def test_a_plugins_commands_ride_the_first_round_trip_and_are_taken_once(tmp_path):
    model = generate_lab(LabSpec(seed=13, hosts=4, mechanism_driver="LXB", type_driver="vxlan"))
    shell, execs = host_shell(model, HOST), []

    def answer(command_line: str):
        execs.append(command_line)
        return shell(command_line)

    with LabSshServer({HOST: answer}, "root", "lab-pw", key_dir=tmp_path / "keys") as server:
        section = {"name": "CLI", **server.client_config(), "known_hosts": str(tmp_path / "known_hosts")}
        ctx = ScanContext({"name": "lab", "configuration": [section]}, inventory=None)
        try:
            state = host_state(ctx, HOST, also=[BRCTL_SHOW, "false"])
            gathered = len(execs)
            bridges = parse_brctl_show(host_outputs(ctx, HOST, [BRCTL_SHOW])[BRCTL_SHOW])
            with pytest.raises(CommandFailed) as failed:
                host_outputs(ctx, HOST, ["false"])
            assert len(execs) == gathered and BRCTL_SHOW in execs[0]
            host_outputs(ctx, HOST, [BRCTL_SHOW])  # taken already: asked again
            assert len(execs) == gathered + 1
        finally:
            ctx.close()
    assert state.os_release.id == "ubuntu" and state.interfaces
    assert {b.name for b in bridges} == {b.name for b in parse_brctl_show(shell(BRCTL_SHOW).stdout)}
    assert (failed.value.host, failed.value.command, failed.value.exit_status) == (HOST, "false", 1)
