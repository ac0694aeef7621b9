"""A host's state over real SSH: a plugin's commands ride the first round trip and are
taken once; one of them failing fails only its reader."""

from __future__ import annotations

import re

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


def test_a_domain_gone_between_the_two_round_trips_is_left_out(tmp_path):
    """``virsh list`` names a domain that is deleted before its ``virsh dumpxml`` runs (an
    instance deleted meanwhile): the host's state has the other domains, no error."""
    model = generate_lab(LabSpec(seed=13, hosts=4, instances=8))
    host = next(name for name in model.hosts if len(model.host_instances(name)) >= 2)
    shell, vanished = host_shell(model, host), []

    def answer(command_line: str):
        dumps = re.findall(r"virsh dumpxml \S+;", command_line)
        if dumps and not vanished:  # round two: the first domain is gone by now
            vanished.append(dumps[0])
            command_line = command_line.replace(dumps[0], "virsh dumpxml no-such-domain;", 1)
        return shell(command_line)

    with LabSshServer({host: answer}, "root", "lab-pw", key_dir=tmp_path / "keys") as server:
        section = {"name": "CLI", **server.client_config(), "known_hosts": str(tmp_path / "known_hosts")}
        ctx = ScanContext({"name": "lab", "configuration": [section]}, inventory=None)
        ctx.cached(("host_type", host), lambda: ["Compute"])
        try:
            state = host_state(ctx, host)
        finally:
            ctx.close()
    assert vanished and len(state.domains) == len(model.host_instances(host)) - 1
