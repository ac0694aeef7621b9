"""The lab hosts' vppctl: what they print parses with the discovery's parsers and says
what the model holds; it follows the model as it changes; hosts without VPP refuse."""

from __future__ import annotations

import pytest

from calipso_core.hostcli.ip_link import parse_ip_address_show
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.linux_host import host_shell
from calipso_core.lab.model import LabSpec
from calipso_core.lab.switching import host_switching
from calipso_plugins_vpp.hostcli.address import parse_show_addresses
from calipso_plugins_vpp.hostcli.hardware import parse_show_hardware
from calipso_plugins_vpp.hostcli.interface import parse_show_interface
from calipso_plugins_vpp.hostcli.mode import BRIDGE, parse_show_mode
from calipso_plugins_vpp.hostcli.tap import parse_show_tap
from calipso_plugins_vpp.hostcli.version import parse_show_version
from calipso_plugins_vpp.hostcli.vxlan import parse_show_vxlan
from calipso_plugins_vpp.lab.vpp_host import vpp_commands


@pytest.fixture(scope="module", params=["vxlan", "vlan"])
def model(request):
    return generate_lab(LabSpec(seed=7, hosts=5, instances=10, mechanism_driver="VPP", type_driver=request.param))


def shell_of(model, host: str):
    shell = host_shell(model, host, [vpp_commands(model, host)])

    def run(command: str) -> str:
        out = shell(command)
        assert out.exit_status == 0, (command, out.stderr)
        return out.stdout

    return run


def vpp_hosts(model) -> list[str]:
    return [h.name for h in model.hosts.values() if h.has_role("network") or h.has_role("compute")]


def test_every_vpp_host_answers_in_the_real_formats(model):
    for host in vpp_hosts(model):
        run, view = shell_of(model, host), host_switching(model, host)
        assert parse_show_version(run("vppctl show version")).version == "v23.10-release"
        interfaces = parse_show_interface(run("vppctl show interface"))
        assert sorted(i.name for i in interfaces) == sorted(i.name for i in view.vpp.interfaces)
        assert all(i.mtu is not None for i in interfaces)
        modes = parse_show_mode(run("vppctl show mode"))
        domains = {}
        for mode in modes:
            if mode.mode == BRIDGE:
                domains.setdefault(mode.bd_id, set()).add(mode.interface)
        assert domains == {bd.bd_id: set(bd.members) for bd in view.vpp.bridge_domains}
        addresses = {a.interface: a for a in parse_show_addresses(run("vppctl show interface address"))}
        assert set(addresses) == {i.name for i in view.vpp.interfaces}
        assert all(addresses[m].bridge.bd_id == bd.bd_id for bd in view.vpp.bridge_domains for m in bd.members)
        holders = [name for name, a in addresses.items() if a.ipv4]
        assert [addresses[n].ipv4[0].address for n in holders] == ([view.host.tunnel_ip] if view.host.tunnel_ip else [])
        tunnels = parse_show_vxlan(run("vppctl show vxlan tunnel"))
        assert [(t.name, t.src, t.dst, t.vni) for t in tunnels] == [
            (t.name, t.src, t.dst, t.vni) for t in view.vpp.tunnels]


def test_vhost_user_interfaces_carry_their_ports_macs(model):
    host = next(h for h in vpp_hosts(model) if model.hosts[h].has_role("compute"))
    run, view = shell_of(model, host), host_switching(model, host)
    hardware = parse_show_hardware(run("vppctl show hardware-interfaces")).by_name()
    vhosts = [i for i in view.vpp.interfaces if i.kind == "vhost"]
    assert vhosts
    for interface in vhosts:
        assert hardware[interface.name].mac == model.ports[interface.port_id].mac
    nic = next(i for i in view.vpp.interfaces if i.kind == "ethernet")
    (alone,) = parse_show_hardware(run(f"vppctl show hardware-interfaces {nic.name}")).interfaces
    assert alone == hardware[nic.name] and alone.link_speed == "10 Gbps"


def test_taps_name_the_namespace_device_they_are_plugged_into(model):
    host = next(h for h in vpp_hosts(model) if model.hosts[h].has_role("network"))
    run = shell_of(model, host)
    taps = parse_show_tap(run("vppctl show tap"))
    assert taps
    for tap in taps:
        devices = {i.name: i for i in parse_ip_address_show(run(f"ip netns exec {tap.host_ns} ip address show"))}
        assert devices[tap.host_if_name].mac == tap.host_mac


def test_answers_follow_the_model(model):
    host = next(h for h in vpp_hosts(model) if model.hosts[h].has_role("compute"))
    run = shell_of(model, host)
    before = {i.name for i in parse_show_interface(run("vppctl show interface"))}
    change = model.boot_instance(host=host)
    try:
        after = {i.name for i in parse_show_interface(run("vppctl show interface"))}
        assert {n for n in after - before if n.startswith("VirtualEthernet0/0/")}
    finally:
        model.delete_instance(change.object_id)
    assert {i.name for i in parse_show_interface(run("vppctl show interface"))} == before


def test_hosts_without_vpp_and_unknown_interfaces_are_refused(model):
    controller = next(h.name for h in model.hosts.values() if h.roles == ("controller",))
    out = host_shell(model, controller, [vpp_commands(model, controller)])("vppctl show version")
    assert out.exit_status == 127 and "vppctl: command not found" in out.stderr
    host = vpp_hosts(model)[0]
    out = host_shell(model, host, [vpp_commands(model, host)])("vppctl show hardware-interfaces nosuch0")
    assert "unknown input `nosuch0'" in out.stdout
