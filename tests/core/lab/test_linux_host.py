"""The lab hosts' Linux answers: every command's output parses with Calipso's own parsers
and says what the model holds (interfaces, MACs, addresses, namespaces, bridges, bonds,
domains); the answers follow the model as it changes; a whole lab's host is read over
real SSH by discovery's own reader."""

from __future__ import annotations

import ipaddress
import time

import pytest

from calipso_core.hostcli.batch import batch, split_batch
from calipso_core.hostcli.bonding import bond_command, parse_bond
from calipso_core.hostcli.brctl import BRCTL_SHOW, parse_brctl_show
from calipso_core.hostcli.bridge_fdb import BRIDGE_FDB_SHOW, parse_bridge_fdb_show
from calipso_core.hostcli.ethtool import ethtool_command, parse_ethtool
from calipso_core.hostcli.ip_link import (
    IP_ADDRESS_SHOW,
    IP_D_LINK_SHOW,
    IP_LINK_SHOW,
    parse_ip_address_show,
    parse_ip_link_show,
)
from calipso_core.hostcli.ip_netns import IP_NETNS_LIST, ip_netns_exec, parse_ip_netns_list
from calipso_core.hostcli.libvirt_domain import parse_dumpxml, virsh_dumpxml
from calipso_core.hostcli.os_release import CAT_OS_RELEASE, CAT_OS_RELEASE_AND_ARCH, parse_os_release
from calipso_core.hostcli.sys_class_net import LS_SYS_CLASS_NET, parse_ls_sys_class_net
from calipso_core.hostcli.virsh import VIRSH_LIST, VIRSH_LIST_ALL, parse_virsh_list
from calipso_core.hoststate import gather
from calipso_core.lab import switching, switching_ovs
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.linux_host import host_shell, linux_commands
from calipso_core.lab.model import LabModel, LabSpec
from calipso_core.lab.shell import Shell
from calipso_core.lab.ssh import CommandOutput, LabSshServer
from calipso_core.scan.context import ScanContext

LABS = {
    "ovs-vxlan": LabSpec(seed=11, hosts=4, mechanism_driver="OVS", type_driver="vxlan"),
    "ovs-vlan": LabSpec(seed=12, hosts=4, mechanism_driver="OVS", type_driver="vlan"),
    "lxb-vxlan": LabSpec(seed=13, hosts=4, mechanism_driver="LXB", type_driver="vxlan"),
    "lxb-vlan": LabSpec(seed=14, hosts=4, mechanism_driver="LXB", type_driver="vlan"),
}
DEVICE_PREFIX = {"network:router_interface": "qr-", "network:router_gateway": "qg-"}


@pytest.fixture(scope="module", params=list(LABS))
def lab(request) -> LabModel:
    """A generated lab that tests only read (4 hosts: controller, network node, two computes)."""
    return generate_lab(LABS[request.param])


def run(shell: Shell, command: str) -> str:
    output = shell(command)
    assert (output.exit_status, output.stderr) == (0, ""), (command, output)
    return output.stdout


def prefix(model: LabModel, subnet_id: str) -> int:
    return ipaddress.ip_network(model.subnets[subnet_id].cidr).prefixlen


def namespaced_ports(model: LabModel, host: str) -> dict[str, dict[str, object]]:
    """What the model says each namespace holds: namespace → device → port."""
    found: dict[str, dict[str, object]] = {f"qrouter-{r.id}": {} for r in model.routers_on(host)}
    dhcp_prefix = "tap" if model.spec.mechanism_driver == "OVS" else "ns-"
    for port in model.host_ports(host):
        if port.device_owner == "network:dhcp":
            found.setdefault(f"qdhcp-{port.network_id}", {})[dhcp_prefix + port.short_id] = port
        elif port.device_owner in DEVICE_PREFIX:
            found[f"qrouter-{port.device_id}"][DEVICE_PREFIX[port.device_owner] + port.short_id] = port
    return found


def instance_ports(model: LabModel, host: str):
    return [(model.ports[p], i) for i in model.host_instances(host) for p in i.port_ids]


def expected_bridges(model: LabModel, host: str) -> dict[str, set[str]]:
    """The kernel bridges the agents build: ``qbr`` per instance port (OVS hybrid plug);
    ``brq`` per network with its taps and uplink (Linux bridge)."""
    hw = model.hosts[host]
    bridges: dict[str, set[str]] = {}
    for port in model.host_ports(host):
        instance = model.instances.get(port.device_id)
        tap = {f"tap{port.short_id}"} if instance is None or instance.vm_state != "stopped" else set()
        if model.spec.mechanism_driver == "OVS":
            if port.device_owner.startswith("compute:"):
                bridges[f"qbr{port.short_id}"] = {f"qvb{port.short_id}"} | tap
            continue
        network = model.networks[port.network_id]
        uplink = {"vxlan": f"vxlan-{network.segmentation_id}", "vlan": f"{hw.data_nic}.{network.segmentation_id}"}
        members = bridges.setdefault(f"brq{network.id[:11]}",
                                     {uplink.get(network.network_type, hw.external_nic)})
        members |= tap
    return bridges


# --- ip link / ip address ---------------------------------------------------------------------


def test_interfaces_show_every_nic_and_port_device_with_the_model_macs_and_addresses(lab):
    for name, host in lab.hosts.items():
        shell = host_shell(lab, name)
        shown = {i.name: i for i in parse_ip_address_show(run(shell, IP_ADDRESS_SHOW))}
        links = parse_ip_link_show(run(shell, IP_LINK_SHOW))
        detailed = {i.name: i for i in parse_ip_link_show(run(shell, IP_D_LINK_SHOW), IP_D_LINK_SHOW)}
        assert list(shown) == [i.name for i in links] == list(detailed)
        indexes = [i.index for i in links]
        assert indexes == sorted(set(indexes)) and shown["lo"].index == 1
        bonds = {p.name: p for p in host.pnics if p.kind == "bond"}
        for nic in host.pnics:
            interface = shown[nic.name]
            live_mac = bonds[nic.bond].mac if nic.bond else nic.mac  # a bond gives its slaves its MAC
            assert (interface.mac, interface.mtu, interface.is_up) == (live_mac, nic.mtu, True)
            assert [a.address for a in interface.ipv4] == ([nic.ip] if nic.ip else [])
            if nic.ip:
                assert interface.ipv4[0].prefixlen == nic.prefixlen
            if nic.bond:
                assert interface.master == nic.bond and "SLAVE" in interface.flags
            if nic.kind == "bond":
                assert detailed[nic.name].kind == "bond"
        for port, instance in instance_ports(lab, name):
            tap = shown.get(f"tap{port.short_id}")
            if instance.vm_state == "stopped":
                assert tap is None
                continue
            assert tap.mac == "fe" + port.mac[2:] and detailed[tap.name].kind == "tun"
            if lab.spec.mechanism_driver == "OVS":
                qvo, qvb = shown[f"qvo{port.short_id}"], shown[f"qvb{port.short_id}"]
                assert (tap.master, qvb.master, qvo.master) == (f"qbr{port.short_id}",) * 2 + ("ovs-system",)
                assert (qvo.link, qvb.link) == (qvb.name, qvo.name)  # veth peers in one namespace
                assert detailed[qvo.name].kind == "veth"
            else:
                assert tap.master == f"brq{port.network_id[:11]}"


def test_vxlan_and_vlan_uplinks_carry_their_segment(lab):
    for name, host in lab.hosts.items():
        detailed = parse_ip_link_show(run(host_shell(lab, name), IP_D_LINK_SHOW), IP_D_LINK_SHOW)
        by_name = {i.name: i for i in detailed}
        networks = [lab.networks[n] for n, hosts in lab.network_hosts.items() if name in hosts]
        for network in networks:
            if lab.spec.mechanism_driver == "OVS":
                continue
            if network.network_type == "vxlan":
                vxlan = by_name[f"vxlan-{network.segmentation_id}"].vxlan
                assert (vxlan.vni, vxlan.local, vxlan.dev, vxlan.dstport) == (
                    network.segmentation_id, host.tunnel_ip, host.data_nic, 8472)
            elif network.network_type == "vlan":
                vlan = by_name[f"{host.data_nic}.{network.segmentation_id}"]
                assert vlan.link == host.data_nic and vlan.kind == "vlan"
                assert f"id {network.segmentation_id}" in vlan.details[0]
        if lab.spec.mechanism_driver == "OVS" and lab.spec.type_driver == "vxlan" and host.tunnel_ip:
            assert by_name["vxlan_sys_4789"].vxlan.dstport == 4789


def test_single_devices_and_unknown_ones(lab):
    name = "compute-0001"
    shell = host_shell(lab, name)
    nic = lab.hosts[name].data_nic
    (one,) = parse_ip_address_show(run(shell, f"ip address show {nic}"), f"ip address show {nic}")
    assert one == {i.name: i for i in parse_ip_address_show(run(shell, IP_ADDRESS_SHOW))}[nic]
    assert [i.name for i in parse_ip_link_show(run(shell, f"ip link show dev {nic}"))] == [nic]
    missing = CommandOutput(1, "", 'Device "eth9" does not exist.\n')
    assert shell("ip address show eth9") == shell("ip link show eth9") == shell("ip -d link show eth9") == missing


# --- namespaces -------------------------------------------------------------------------------


def test_namespaces_hold_the_dhcp_and_router_ports_with_their_addresses(lab):
    for name in lab.hosts:
        shell = host_shell(lab, name)
        listed = parse_ip_netns_list(run(shell, IP_NETNS_LIST))
        expected = namespaced_ports(lab, name)
        assert {ns.name for ns in listed} == set(expected)
        assert len({ns.netnsid for ns in listed}) == len(listed)
        root = {i.name: i for i in parse_ip_address_show(run(shell, IP_ADDRESS_SHOW))}
        for namespace in listed:
            command = ip_netns_exec(namespace.name, IP_ADDRESS_SHOW)
            lo, *interfaces = parse_ip_address_show(run(shell, command), command)
            assert (lo.name, lo.ipv4[0].address) == ("lo", "127.0.0.1")
            assert {i.name for i in interfaces} == set(expected[namespace.name])
            for interface in interfaces:
                port = expected[namespace.name][interface.name]
                assert interface.mac == port.mac
                assert [(a.address, a.prefixlen) for a in interface.ipv4] == [
                    (address, prefix(lab, subnet)) for subnet, address in port.fixed_ips]
                if lab.spec.mechanism_driver == "LXB":  # a veth whose host end is the bridge's tap
                    host_end = root[f"tap{port.short_id}"]
                    assert host_end.link == f"if{interface.index}"
                    assert host_end.link_netnsid == namespace.netnsid
                    assert interface.link == f"if{host_end.index}" and interface.link_netnsid == 0


def test_an_unknown_namespace_is_refused():
    model = generate_lab(LABS["lxb-vxlan"])
    shell = host_shell(model, "network-1")
    assert shell("ip netns exec qdhcp-nope ip address show") == CommandOutput(
        1, "", 'Cannot open network namespace "qdhcp-nope": No such file or directory\n')


# --- sysfs, ethtool, bonding, os-release --------------------------------------------------------


def test_physical_nics_ethtool_bonds_and_os_release(lab):
    for name, host in lab.hosts.items():
        shell = host_shell(lab, name)
        entries = parse_ls_sys_class_net(run(shell, LS_SYS_CLASS_NET))
        assert sorted(e.name for e in entries if e.is_physical) == sorted(p.name for p in host.physical_nics)
        assert {e.name for e in entries if e.is_virtual} >= {"lo"}
        for nic in host.physical_nics:
            settings = parse_ethtool(run(shell, ethtool_command(nic.name)), ethtool_command(nic.name))
            assert (settings.interface, settings.speed, settings.link_detected) == (
                nic.name, f"{nic.speed_mbps}Mb/s", True)
        for bond in (p for p in host.pnics if p.kind == "bond"):
            parsed = parse_bond(run(shell, bond_command(bond.name)), bond.name)
            assert parsed.mode == "fault-tolerance (active-backup)" and parsed.mii_status == "up"
            nics = {p.name: p.mac for p in host.pnics}
            assert [(s.name, s.permanent_mac) for s in parsed.slaves] == [(m, nics[m]) for m in bond.members]
        release = parse_os_release(run(shell, CAT_OS_RELEASE))
        assert (release.name, release.version, release.id, release.id_like) == (
            host.os.name, host.os.version, host.os.id, host.os.id_like)
        assert parse_os_release(run(shell, CAT_OS_RELEASE_AND_ARCH)).architecture == host.os.architecture
        assert run(shell, "uname -r") == host.os.kernel + "\n"


def test_unknown_nic_bond_and_file_answer_like_the_real_tools():
    model = generate_lab(LABS["ovs-vxlan"])
    shell = host_shell(model, "compute-0001")
    ethtool = shell("ethtool eth9")
    assert ethtool.exit_status == 75 and "No such device" in ethtool.stderr
    assert shell("cat /proc/net/bonding/bond7") == CommandOutput(
        1, "", "cat: /proc/net/bonding/bond7: No such file or directory\n")
    assert shell("ovs-vsctl show").exit_status == 127  # not a Linux command: the plugin adds it


# --- bridges ----------------------------------------------------------------------------------


def test_brctl_lists_the_bridges_the_agent_builds(lab):
    for name in lab.hosts:
        bridges = parse_brctl_show(run(host_shell(lab, name), BRCTL_SHOW))
        assert {b.name: set(b.interfaces) for b in bridges} == expected_bridges(lab, name)
        assert all(not b.stp_enabled for b in bridges)


def test_bridge_fdb_names_every_remote_vtep_of_each_vxlan_network(lab):
    for name in lab.hosts:
        entries = parse_bridge_fdb_show(run(host_shell(lab, name), BRIDGE_FDB_SHOW))
        if lab.spec.mechanism_driver != "LXB" or lab.spec.type_driver != "vxlan":
            assert all(e.dst is None for e in entries)
            continue
        for network_id, hosts in lab.network_hosts.items():
            network = lab.networks[network_id]
            if name not in hosts or network.network_type != "vxlan":
                continue
            remotes = {e.dst for e in entries if e.dev == f"vxlan-{network.segmentation_id}" and e.dst}
            assert remotes == {lab.hosts[h].tunnel_ip for h in hosts if h != name}
        for port, _ in instance_ports(lab, name):
            assert any(e.mac == port.mac and e.dev == f"tap{port.short_id}" for e in entries)


# --- libvirt ----------------------------------------------------------------------------------


def test_domains_and_their_vnics_match_the_instances(lab):
    for name in lab.hosts:
        shell = host_shell(lab, name)
        instances = lab.host_instances(name)
        if lab.hosts[name].hypervisor is None:
            assert shell(VIRSH_LIST_ALL).exit_status == 127
            continue
        listed = parse_virsh_list(run(shell, VIRSH_LIST_ALL), VIRSH_LIST_ALL)
        assert {(d.id, d.name, d.state) for d in listed} == {(i.number, i.libvirt_name, "running") for i in instances}
        for instance in instances:
            for key in (instance.number, instance.libvirt_name, instance.id):
                domain = parse_dumpxml(run(shell, virsh_dumpxml(key)))
                assert (domain.uuid, domain.name, domain.id) == (instance.id, instance.libvirt_name, instance.number)
            assert domain.nova.name == instance.name and domain.nova.flavor_name == instance.flavor
            assert domain.nova.project_uuid == instance.project_id
            ports = [lab.ports[p] for p in instance.port_ids]
            assert [n.mac for n in domain.interfaces] == [p.mac for p in ports]
            assert [n.target_dev for n in domain.interfaces] == [f"tap{p.short_id}" for p in ports]
            bridges = [f"qbr{p.short_id}" if lab.spec.mechanism_driver == "OVS" else f"brq{p.network_id[:11]}"
                       for p in ports]
            assert [n.source_bridge for n in domain.interfaces] == bridges
            assert all(n.type == "bridge" and n.virtualport_type is None for n in domain.interfaces)
        assert shell("virsh dumpxml instance-nope") == CommandOutput(
            1, "", "error: failed to get domain 'instance-nope'\n")


def test_a_vpp_host_shows_what_the_kernel_keeps():
    """VPP drives the data and external NICs, plugs guests by vhost-user and namespace
    ports by tap: the kernel lists none of that but the namespace ends."""
    model = generate_lab(LabSpec(seed=15, hosts=4, mechanism_driver="VPP"))
    network = host_shell(model, "network-1")
    physical = [e.name for e in parse_ls_sys_class_net(run(network, LS_SYS_CLASS_NET)) if e.is_physical]
    assert physical == ["eno1"] and parse_brctl_show(run(network, BRCTL_SHOW)) == ()
    expected = namespaced_ports(model, "network-1")
    for namespace in parse_ip_netns_list(run(network, IP_NETNS_LIST)):
        command = ip_netns_exec(namespace.name, "ip -d link show")
        _, *interfaces = parse_ip_link_show(run(network, command), command)
        assert {(i.name, i.mac, i.kind, i.link) for i in interfaces} == {
            (name, port.mac, "tun", None) for name, port in expected[namespace.name].items()}
    compute = host_shell(model, "compute-0001")
    for instance in model.host_instances("compute-0001"):
        nics = parse_dumpxml(run(compute, virsh_dumpxml(instance.libvirt_name))).interfaces
        assert [(n.type, n.source["path"], n.target_dev) for n in nics] == [
            ("vhostuser", f"/tmp/{p}", None) for p in instance.port_ids]


# --- the model changing -----------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["OVS", "LXB"])
def test_powering_off_removes_the_tap_and_keeps_every_other_index(driver):
    model = generate_lab(LabSpec(seed=5, hosts=4, mechanism_driver=driver))
    host = "compute-0001"
    shell = host_shell(model, host)
    instance = model.host_instances(host)[0]
    tap = f"tap{model.ports[instance.port_ids[0]].short_id}"
    before = {i.name: i.index for i in parse_ip_link_show(run(shell, IP_LINK_SHOW))}
    model.power_off_instance(instance.id)
    after = {i.name: i.index for i in parse_ip_link_show(run(shell, IP_LINK_SHOW))}
    assert tap in before and tap not in after
    assert after == {n: i for n, i in before.items() if n != tap}
    assert all(tap not in b.interfaces for b in parse_brctl_show(run(shell, BRCTL_SHOW)))
    (listed,) = [d for d in parse_virsh_list(run(shell, VIRSH_LIST_ALL)) if d.name == instance.libvirt_name]
    assert (listed.id, listed.state) == (None, "shut off")
    assert instance.libvirt_name not in {d.name for d in parse_virsh_list(run(shell, VIRSH_LIST))}
    domain = parse_dumpxml(run(shell, virsh_dumpxml(instance.libvirt_name)))
    assert domain.id is None and all(n.target_dev is None for n in domain.interfaces)
    assert shell(virsh_dumpxml(instance.number)).exit_status == 1  # no running domain has that id now

    model.power_on_instance(instance.id)
    again = {i.name: i.index for i in parse_ip_link_show(run(shell, IP_LINK_SHOW))}
    assert again[tap] > max(before.values())  # the kernel numbers a new device anew
    assert {n: i for n, i in again.items() if n != tap} == after


def test_indexes_and_namespace_ids_hold_while_other_hosts_change():
    model = generate_lab(LABS["lxb-vxlan"])
    shell = host_shell(model, "network-1")
    before = run(shell, IP_D_LINK_SHOW), run(shell, IP_NETNS_LIST)
    model.boot_instance(host="compute-0002")
    assert (run(shell, IP_D_LINK_SHOW), run(shell, IP_NETNS_LIST)) == before


def test_a_new_network_on_the_host_appears_at_once():
    model = generate_lab(LABS["lxb-vxlan"])
    shell = host_shell(model, "compute-0001")
    network = model.networks[model.create_network(model.admin_project_id, name="late", region="RegionOne").object_id]
    model.create_subnet(network.id, name="late-subnet")
    instance = model.instances[model.boot_instance(model.admin_project_id, "compute-0001", [network.id]).object_id]
    bridges = {b.name: b.interfaces for b in parse_brctl_show(run(shell, BRCTL_SHOW))}
    port = model.ports[instance.port_ids[0]]
    assert set(bridges[f"brq{network.id[:11]}"]) == {f"vxlan-{network.segmentation_id}", f"tap{port.short_id}"}


def test_a_prepared_host_answers_discovery_without_building_its_view_again(monkeypatch):
    """A large lab keeps the views of only some hosts: what discovery asks with parameters
    (each NIC's ethtool, each domain's XML) is derived with the rest when the host prepares."""
    model = generate_lab(LABS["ovs-vxlan"])
    monkeypatch.setattr(switching, "SWITCHING_CACHE_SIZE", 1)
    shells = {name: host_shell(model, name) for name in model.hosts}
    for shell in shells.values():
        shell.prepare()
    built = []
    view = switching_ovs.ovs_view
    monkeypatch.setattr(switching_ovs, "ovs_view", lambda *args: built.append(args[1].name) or view(*args))
    for name, shell in shells.items():
        discovery_answers(shell, model.hosts[name].hypervisor is not None)
    assert built == []
    compute = next(h for h in model.hosts.values() if h.hypervisor is not None)
    pnic, shell = compute.pnics[0].name, shells[compute.name]
    assert run(shell, ethtool_command(pnic)) == run(host_shell(model, compute.name), ethtool_command(pnic))
    assert shell(ethtool_command("no-such-nic")).exit_status == 75
    model.boot_instance(host=compute.name)  # a new model version: the answers are derived again
    built.clear()
    discovery_answers(shell, compute=True)
    assert built == [compute.name]  # from one view


# --- scale and the real SSH path -----------------------------------------------------------------


def discovery_answers(shell: Shell, compute: bool) -> float:
    """Seconds to answer what discovery asks a host (both rounds, batched)."""
    started = time.perf_counter()
    first = [IP_NETNS_LIST, IP_ADDRESS_SHOW, IP_D_LINK_SHOW, LS_SYS_CLASS_NET, CAT_OS_RELEASE, BRCTL_SHOW,
             BRIDGE_FDB_SHOW] + ([VIRSH_LIST] if compute else [])
    out = {r.command: r.stdout for r in split_batch(shell(batch(first)).stdout, first)}
    second = [ip_netns_exec(ns.name, IP_ADDRESS_SHOW) for ns in parse_ip_netns_list(out[IP_NETNS_LIST])]
    second += [ethtool_command(e.name) for e in parse_ls_sys_class_net(out[LS_SYS_CLASS_NET]) if e.is_physical]
    second += [virsh_dumpxml(d.id) for d in parse_virsh_list(out[VIRSH_LIST])] if compute else []
    split_batch(shell(batch(second)).stdout, second)
    return time.perf_counter() - started


@pytest.mark.slow
def test_a_host_of_a_thousand_host_lab_answers_in_milliseconds():
    model = generate_lab(LabSpec(seed=2, hosts=1000, mechanism_driver="LXB"))
    for host in ("network-1", "compute-0001"):
        shell = host_shell(model, host)
        compute = model.hosts[host].hypervisor is not None
        first = discovery_answers(shell, compute)
        warm = min(discovery_answers(shell, compute) for _ in range(3))
        assert first < 1.0 and warm < 0.05, (host, first, warm)


def test_discovery_reads_a_lab_host_over_ssh(tmp_path):
    model = generate_lab(LABS["lxb-vxlan"])
    hosts = {name: host_shell(model, name) for name in ("network-1", "compute-0002")}
    with LabSshServer(hosts, "root", "lab-pw", key_dir=tmp_path / "keys") as server:
        section = {"name": "CLI", **server.client_config(), "known_hosts": str(tmp_path / "known_hosts")}
        ctx = ScanContext({"name": "lab", "configuration": [section]}, inventory=None)
        try:
            network = gather(ctx, "network-1", with_domains=False)
            compute = gather(ctx, "compute-0002", with_domains=True)
        finally:
            ctx.close()
    assert network.os_release.id == "ubuntu"
    assert set(network.namespaces) == set(namespaced_ports(model, "network-1"))
    assert network.ethtool["ens1f0"].speed == "10000Mb/s"
    host = model.hosts["compute-0002"]
    assert compute.physical == sorted(p.name for p in host.physical_nics)
    assert [s.permanent_mac for s in compute.bonds["bond0"].slaves] == [
        p.mac for p in host.pnics if p.bond == "bond0"]
    vxlans = [i.vxlan for i in compute.interfaces.values() if i.vxlan]
    assert vxlans and all(v.local == host.tunnel_ip and v.dev == "bond0" for v in vxlans)
    assert set(compute.domains) == {i.id for i in model.host_instances("compute-0002")}
    for instance in model.host_instances("compute-0002"):
        nics = compute.domains[instance.id].interfaces
        assert [n.mac for n in nics] == [model.ports[p].mac for p in instance.port_ids]
        assert all(compute.interfaces[n.target_dev].master == n.source_bridge for n in nics)


def test_extra_commands_join_and_override_the_linux_ones():
    model = generate_lab(LABS["lxb-vlan"])
    shell = host_shell(model, "compute-0001", [{"vppctl show version": lambda: "vpp v23.10\n"},
                                               {"hostname": lambda: "renamed\n"}])
    assert run(shell, "vppctl show version") == "vpp v23.10\n" and run(shell, "hostname") == "renamed\n"
    assert "ip netns list" in linux_commands(model, "compute-0001")
    one_mapping = host_shell(model, "compute-0001", {"vppctl show version": lambda: "vpp v23.10\n"})
    assert run(one_mapping, "vppctl show version") == "vpp v23.10\n"
    assert run(one_mapping, "hostname") == "compute-0001\n"
