"""The lab hosts' Open vSwitch answers: ``ovs-vsctl show``/``list-br``/``list-ifaces`` and
``ovs-dpctl show`` parse with the plugin's parsers and hold the OVS agent's switch for the
model (tagged ports, tunnels to every other tunnel host, patch pairs, physical bridges);
datapath numbers hold while ports come and go; discovery reads it all over real SSH."""

from __future__ import annotations

import ipaddress

import pytest

from calipso_core.hostcli.brctl import BRCTL_SHOW, parse_brctl_show
from calipso_core.hostshell import run_commands
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.linux_host import host_shell
from calipso_core.lab.model import LabModel, LabSpec
from calipso_core.lab.shell import Shell
from calipso_core.lab.ssh import CommandOutput, LabSshServer
from calipso_core.scan.context import ScanContext
from calipso_plugins_openstack.hostcli.ovs_dpctl import OVS_DPCTL_SHOW, parse_ovs_dpctl_show
from calipso_plugins_openstack.hostcli.ovs_vsctl import (
    OVS_VSCTL_LIST_BR,
    OVS_VSCTL_SHOW,
    ovs_vsctl_list_ifaces,
    parse_ovs_vsctl_names,
    parse_ovs_vsctl_show,
)
from calipso_plugins_openstack.lab.ovs_host import ovs_commands

LABS = {
    "vxlan": LabSpec(seed=21, hosts=5, mechanism_driver="OVS", type_driver="vxlan"),
    "vlan": LabSpec(seed=22, hosts=5, mechanism_driver="OVS", type_driver="vlan"),
}
NAMESPACED = {"network:dhcp": "tap", "network:router_interface": "qr-", "network:router_gateway": "qg-"}


@pytest.fixture(scope="module", params=list(LABS))
def lab(request) -> LabModel:
    return generate_lab(LABS[request.param])


def ovs_shell(model: LabModel, host: str) -> Shell:
    return host_shell(model, host, [ovs_commands(model, host)])


def run(shell: Shell, command: str) -> str:
    output = shell(command)
    assert (output.exit_status, output.stderr) == (0, ""), (command, output)
    return output.stdout


def switching_hosts(model: LabModel) -> list[str]:
    return [h.name for h in model.hosts.values() if {"network", "compute"} & set(h.roles)]


def tunnel_name(ip: str) -> str:
    return "vxlan-" + ipaddress.IPv4Address(ip).packed.hex()


def expected_br_int(model: LabModel, host: str) -> dict[str, tuple[int, str]]:
    """br-int's Neutron ports: name → (local VLAN tag, interface type)."""
    tags = model.host_state[host].local_ids
    ports = {}
    for port in model.host_ports(host):
        if port.device_owner.startswith("compute:"):
            ports[f"qvo{port.short_id}"] = (tags[port.network_id], "")
        elif port.device_owner in NAMESPACED:
            ports[NAMESPACED[port.device_owner] + port.short_id] = (tags[port.network_id], "internal")
    return ports


def test_the_switch_holds_the_agents_bridges_ports_tags_and_tunnels(lab):
    vxlan = lab.spec.type_driver == "vxlan"
    for name in switching_hosts(lab):
        host = lab.hosts[name]
        switch = parse_ovs_vsctl_show(run(ovs_shell(lab, name), OVS_VSCTL_SHOW))
        physical = "br-tun" if vxlan else "br-prv"
        assert {b.name for b in switch.bridges} == {"br-int", physical} | ({"br-ex"} if host.external_nic else set())
        assert all(b.fail_mode == "secure" for b in switch.bridges)
        br_int = switch.bridge("br-int")
        neutron = {p.name: (p.tag, p.interfaces[0].type) for p in br_int.ports
                   if p.interfaces[0].type != "patch" and p.name != "br-int"}
        assert neutron == expected_br_int(lab, name)
        patches = {p.name: (b.name, p.interfaces[0].options["peer"]) for b in switch.bridges for p in b.ports
                   if p.interfaces[0].type == "patch"}
        assert patches and all(patches[peer][1] == port for port, (_, peer) in patches.items())
        if vxlan:
            tunnels = {p.name: dict(p.interfaces[0].options) for p in switch.bridge("br-tun").ports
                       if p.interfaces[0].type == "vxlan"}
            peers = [h for h in lab.tunnel_hosts(host.region) if h.name != name]
            assert set(tunnels) == {tunnel_name(h.tunnel_ip) for h in peers} and peers
            for peer in peers:
                options = tunnels[tunnel_name(peer.tunnel_ip)]
                assert (options["remote_ip"], options["local_ip"], options["in_key"], options["out_key"]) == (
                    peer.tunnel_ip, host.tunnel_ip, "flow", "flow")
        else:
            assert host.data_nic in {p.name for p in switch.bridge("br-prv").ports}
        if host.external_nic:
            assert host.external_nic in {p.name for p in switch.bridge("br-ex").ports}


def test_list_br_and_list_ifaces_agree_with_show(lab):
    for name in switching_hosts(lab):
        shell = ovs_shell(lab, name)
        switch = parse_ovs_vsctl_show(run(shell, OVS_VSCTL_SHOW))
        assert parse_ovs_vsctl_names(run(shell, OVS_VSCTL_LIST_BR)) == tuple(sorted(b.name for b in switch.bridges))
        for bridge in switch.bridges:
            command = ovs_vsctl_list_ifaces(bridge.name)
            assert parse_ovs_vsctl_names(run(shell, command), command) == tuple(
                sorted(p.name for p in bridge.ports if p.name != bridge.name))
        assert shell("ovs-vsctl list-ifaces br-nope") == CommandOutput(1, "", "ovs-vsctl: no bridge named br-nope\n")


def test_the_datapath_numbers_every_port_but_the_patches(lab):
    for name in switching_hosts(lab):
        shell = ovs_shell(lab, name)
        switch = parse_ovs_vsctl_show(run(shell, OVS_VSCTL_SHOW))
        (datapath,) = parse_ovs_dpctl_show(run(shell, OVS_DPCTL_SHOW))
        assert datapath.name == "system@ovs-system" and datapath.ports[0].name == "ovs-system"
        numbers = [p.number for p in datapath.ports]
        assert numbers[0] == 0 and len(set(numbers)) == len(numbers)
        wanted = {p.name for b in switch.bridges for p in b.ports if p.interfaces[0].type not in ("patch", "vxlan")}
        if lab.spec.type_driver == "vxlan":
            wanted.add("vxlan_sys_4789")
        assert {p.name for p in datapath.ports[1:]} == wanted
        assert all(p.internal for p in datapath.ports if p.name.startswith(("qr-", "qg-", "br-")))


def test_hosts_without_open_vswitch_answer_127():
    ovs = generate_lab(LABS["vxlan"])
    lxb = generate_lab(LabSpec(seed=23, hosts=4, mechanism_driver="LXB"))
    for model, host in ((ovs, "controller-1"), (lxb, "compute-0001"), (lxb, "network-1")):
        shell = ovs_shell(model, host)
        for command in (OVS_VSCTL_SHOW, OVS_VSCTL_LIST_BR, "ovs-vsctl list-ifaces br-int", OVS_DPCTL_SHOW):
            program = command.split()[0]
            assert shell(command) == CommandOutput(127, "", f"bash: {program}: command not found\n")


def test_ports_keep_their_datapath_numbers_and_a_new_port_takes_the_lowest_free_one():
    model = generate_lab(LABS["vxlan"])
    host = "compute-0001"
    shell = ovs_shell(model, host)
    numbers = {p.name: p.number for p in parse_ovs_dpctl_show(run(shell, OVS_DPCTL_SHOW))[0].ports}
    gone = model.host_instances(host)[0]
    qvo = f"qvo{model.ports[gone.port_ids[0]].short_id}"
    model.delete_instance(gone.id)
    after = {p.name: p.number for p in parse_ovs_dpctl_show(run(shell, OVS_DPCTL_SHOW))[0].ports}
    assert after == {n: i for n, i in numbers.items() if n != qvo}
    booted = model.instances[model.boot_instance(host=host).object_id]
    new_qvo = f"qvo{model.ports[booted.port_ids[0]].short_id}"
    latest = {p.name: p.number for p in parse_ovs_dpctl_show(run(shell, OVS_DPCTL_SHOW))[0].ports}
    assert latest[new_qvo] == numbers[qvo] and qvo not in latest
    tags = {p.name: p.tag for p in parse_ovs_vsctl_show(run(shell, OVS_VSCTL_SHOW)).bridge("br-int").ports}
    assert tags[new_qvo] == model.host_state[host].local_ids[model.ports[booted.port_ids[0]].network_id]


def test_powering_off_keeps_the_ovs_side_of_the_hybrid_plug():
    model = generate_lab(LABS["vlan"])
    host = "compute-0001"
    shell = ovs_shell(model, host)
    before = run(shell, OVS_VSCTL_SHOW), run(shell, OVS_DPCTL_SHOW)
    instance = model.host_instances(host)[0]
    model.power_off_instance(instance.id)
    assert (run(shell, OVS_VSCTL_SHOW), run(shell, OVS_DPCTL_SHOW)) == before
    assert f"tap{model.ports[instance.port_ids[0]].short_id}" not in run(shell, BRCTL_SHOW)


def test_discovery_reads_the_switch_over_ssh(tmp_path):
    """The batch discovery's switch fetcher sends, over the lab's SSH server and the scan's
    SSH pool, parsed as the fetcher parses it."""
    model = generate_lab(LABS["vxlan"])
    names = ("network-1", "compute-0001")
    commands = [BRCTL_SHOW, OVS_VSCTL_SHOW, OVS_DPCTL_SHOW]
    with LabSshServer({n: ovs_shell(model, n) for n in names}, "root", "lab-pw", key_dir=tmp_path / "keys") as server:
        section = {"name": "CLI", **server.client_config(), "known_hosts": str(tmp_path / "known_hosts")}
        ctx = ScanContext({"name": "lab", "mechanism_drivers": ["OVS"], "configuration": [section]}, inventory=None)
        try:
            out = {n: run_commands(ctx, n, commands) for n in names}
        finally:
            ctx.close()
    compute = out["compute-0001"]
    ports = [model.ports[p] for i in model.host_instances("compute-0001") for p in i.port_ids]
    assert {b.name: set(b.interfaces) for b in parse_brctl_show(compute[BRCTL_SHOW])} == {
        f"qbr{p.short_id}": {f"qvb{p.short_id}", f"tap{p.short_id}"} for p in ports}
    br_int = parse_ovs_vsctl_show(compute[OVS_VSCTL_SHOW]).bridge("br-int")
    assert {p.name for p in br_int.ports} >= {f"qvo{p.short_id}" for p in ports}
    (datapath,) = parse_ovs_dpctl_show(compute[OVS_DPCTL_SHOW])
    assert {f"qvo{p.short_id}" for p in ports} <= {p.name for p in datapath.ports}
    network = out["network-1"]
    assert parse_brctl_show(network[BRCTL_SHOW]) == ()
    switch = parse_ovs_vsctl_show(network[OVS_VSCTL_SHOW])
    assert switch.bridge("br-ex") is not None
    tunnels = [p for p in switch.bridge("br-tun").ports if p.interfaces[0].type == "vxlan"]
    assert len(tunnels) == len(model.tunnel_hosts("RegionOne")) - 1
