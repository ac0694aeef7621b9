"""ip link / ip -d link / ip address show: recorded outputs, round trips, malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.ip_address import Address, parse_address_line
from calipso_core.hostcli.ip_link import (
    ADDRESS_VIEW,
    D_ADDRESS_VIEW,
    D_LINK_VIEW,
    LINK_VIEW,
    Interface,
    as_ip_address_show,
    as_ip_link_show,
    as_ip_view,
    parse_ip_address_show,
    parse_ip_link_show,
    render_interfaces,
    render_ip_address_show,
    render_ip_link_show,
)
from calipso_core.hostcli.vxlan import Vxlan

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def expected(name: str) -> dict:
    return json.loads(recorded(name))


@pytest.mark.parametrize("name", [
    "ip_address_show_br_mesh.txt", "ip_address_show_ens32.txt", "ip_netns_exec_ip_address_show.txt",
    "ip_link_show_kub1_aci.txt", "ip_link_show_kub2_aci.txt", "ip_link_show_kub3_aci.txt",
])
def test_recorded_output_renders_back_byte_for_byte(name):
    text = recorded(name)
    interfaces = parse_ip_address_show(text)
    assert interfaces
    assert render_ip_address_show(interfaces) == text


def test_netns_interface_matches_the_vservice_vnic_expected_upstream():
    data = expected("cli_fetch_vservice_vnics_test_data.json")
    lo, eth0 = parse_ip_address_show(recorded("ip_netns_exec_ip_address_show.txt"),
                                     "ip netns exec qdhcp-1 ip address show")
    assert (lo.name, lo.link_type, lo.ipv4[0].address) == ("lo", "loopback", "127.0.0.1")
    vnic = data["VNIC"]
    assert eth0.name == vnic["id"] == "eth0"
    assert eth0.mac == vnic["mac_address"] == data["MAC_ADDRESS"]
    assert eth0.ipv4[0].address == vnic["IP Address"] == data["IPV4_ADDRESS"]
    assert str(eth0.ipv4[0].prefixlen) == vnic["netmask"] == data["SIZE"]
    assert eth0.ipv4[0].cidr == data["CIDR"]
    assert eth0.ipv4[0].netmask.split(".") == data["NET_MASK_ARRAY"]
    assert eth0.ipv6[0].address == vnic["IPv6 Address"] == data["IPV6_ADDRESS"]
    assert eth0.ipv6[0].flags == ("mngtmpaddr", "dynamic")
    assert eth0.ipv6[0].valid_lft == "2591971sec"
    assert (eth0.state, eth0.qdisc, eth0.qlen, eth0.group, eth0.mtu) == ("UP", "pfifo_fast", 1000, "default", 1500)


def test_host_interface_matches_the_interface_details_expected_upstream():
    details = expected("cli_fetch_interface_details_test_data.json")["INTERFACE_DETAILS"]
    (ens32,) = parse_ip_address_show(recorded("ip_address_show_ens32.txt"), "ip address show ens32")
    assert ens32.name == details["name"] and str(ens32.index) == details["index"]
    assert ens32.state == details["state"] and ens32.is_up
    assert ens32.group is None and ens32.qlen == 1000
    assert [a.address for a in ens32.addresses] == [
        "10.56.20.211", "2001:420:4482:24c1:250:56ff:fe99:2a07", "fe80::250:56ff:fe99:2a07"]
    assert ens32.ipv4[0].label == "ens32" and ens32.ipv6[1].scope == "link"


def test_address_lines_expected_upstream():
    data = expected("cli_fetch_host_pnics_test_data.json")
    v4 = parse_address_line("ip address show", 3, data["IPV4_ADDRESS_LINE"])
    v6 = parse_address_line("ip address show", 5, data["IPV6_ADDRESS_LINE"])
    assert v4.address == data["IPV4_ADDRESS"] and v4.broadcast == "10.56.20.255" and v4.label == "eth0"
    assert f"{v6.address}/{v6.prefixlen}" == data["IPV6_ADDRESS"] and v6.label is None


def test_link_show_of_a_kubernetes_node_names_veth_peer_master_and_netnsid():
    interfaces = parse_ip_link_show(recorded("ip_link_show_kub3_aci.txt"))
    assert [i.name for i in interfaces] == [
        "lo", "ens160", "ens192", "docker0", "flannel.1", "cni0", "vethba9e7701", "vethbe6bd76f"]
    veth = interfaces[-1]
    assert (veth.link, veth.master, veth.link_netnsid, veth.mac) == ("if3", "cni0", 1, "a2:ec:75:ef:91:4f")
    assert (veth.mode, veth.qlen) == ("DEFAULT", None)
    assert interfaces[3].flags == ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP") and interfaces[3].state == "DOWN"


D_LINK_SHOW = """\
5: vxlan-52: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master brq2e3b85f4-75 state UNKNOWN \
mode DEFAULT group default qlen 1000
    link/ether 6e:1c:4e:2b:d6:2a brd ff:ff:ff:ff:ff:ff promiscuity 1\x20
    vxlan id 52 local 192.168.2.3 dev eno33554952 srcport 0 0 dstport 8472 ttl 32 ageing 300 udpcsum \
noudp6zerocsumtx noudp6zerocsumrx\x20
    bridge_slave state forwarding priority 32 cost 100 hairpin off guard off addrgenmode eui64 numtxqueues 1\x20
6: brq2e3b85f4-75: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default \
qlen 1000
    link/ether 6e:1c:4e:2b:d6:2a brd ff:ff:ff:ff:ff:ff promiscuity 0\x20
    bridge forward_delay 1500 hello_time 200 max_age 2000 stp_state 0 priority 32768 vlan_filtering 0\x20
"""


def test_d_link_show_gives_the_vxlan_details_of_a_linux_bridge_otep():
    vxlan_if, bridge = parse_ip_link_show(D_LINK_SHOW, "ip -d link show")
    assert vxlan_if.vxlan == Vxlan(
        vni=52, local="192.168.2.3", dev="eno33554952", srcport=(0, 0), dstport=8472,
        extra=("ttl", "32", "ageing", "300", "udpcsum", "noudp6zerocsumtx", "noudp6zerocsumrx"),
    )
    assert vxlan_if.kind == "vxlan" and vxlan_if.link_extra == "promiscuity 1"
    assert vxlan_if.details[0].startswith("bridge_slave state forwarding")
    assert bridge.kind == "bridge" and bridge.vxlan is None
    assert render_ip_link_show((vxlan_if, bridge)) == D_LINK_SHOW


def a_vxlan_interface() -> Interface:
    return Interface(
        index=9, name="vxlan-77", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"), mtu=1450,
        qdisc="noqueue", master="brq77", state="UNKNOWN", mode="DEFAULT", group="default", qlen=1000,
        mac="fa:16:3e:00:00:77", brd="ff:ff:ff:ff:ff:ff", link_extra="promiscuity 1",
        addresses=(
            Address("inet", "10.0.0.7", 24, broadcast="10.0.0.255", label="vxlan-77"),
            Address("inet", "10.0.0.8", 24, flags=("secondary",), label="vxlan-77:1", valid_lft=None,
                    preferred_lft=None),
            Address("inet", "10.9.9.1", 32, peer="10.9.9.2", scope="link", label="vxlan-77"),
            Address("inet6", "fe80::1", 64, scope="link", valid_lft="86400sec", preferred_lft="14400sec"),
        ),
        vxlan=Vxlan(77, group="239.1.1.1", local="192.168.2.1", dev="eth1", dstport=4789),
        details=("bridge_slave state forwarding priority 32",),
    )


def test_built_records_round_trip_in_every_view():
    interface = a_vxlan_interface()
    assert parse_ip_link_show(render_ip_link_show([interface])) == (interface,)
    for view in (as_ip_link_show(interface), as_ip_link_show(interface, details=True), as_ip_address_show(interface)):
        assert parse_ip_address_show(render_ip_address_show([view])) == (view,)


@pytest.mark.parametrize("view", [LINK_VIEW, D_LINK_VIEW, ADDRESS_VIEW, D_ADDRESS_VIEW])
def test_a_view_prints_what_its_record_holds_and_reads_back(view):
    interface = a_vxlan_interface()
    shown = as_ip_view(interface, view)
    assert render_interfaces([interface], view) == render_interfaces([shown])
    assert parse_ip_address_show(render_interfaces([interface], view)) == (shown,)


def test_d_address_show_holds_details_and_addresses_but_no_mode():
    text = render_interfaces([a_vxlan_interface()], D_ADDRESS_VIEW)
    assert "mode" not in text.splitlines()[0] and "promiscuity 1" in text
    assert "    vxlan id 77 " in text and "    inet 10.0.0.7/24 " in text


def test_views_print_what_each_command_prints():
    interface = a_vxlan_interface()
    link = render_ip_link_show([as_ip_link_show(interface)])
    assert "mode DEFAULT" in link and "inet " not in link and "vxlan id" not in link
    detailed = render_ip_link_show([as_ip_link_show(interface, details=True)])
    assert "    vxlan id 77 group 239.1.1.1 local 192.168.2.1 dev eth1 dstport 4789 \n" in detailed
    address = render_ip_address_show([as_ip_address_show(interface)])
    assert "mode" not in address.splitlines()[0]
    assert "    inet 10.0.0.7/24 brd 10.0.0.255 scope global vxlan-77\n" \
           "       valid_lft forever preferred_lft forever\n" in address
    assert "    inet 10.0.0.8/24 scope global secondary vxlan-77:1\n    inet 10.9.9.1 peer 10.9.9.2/32" in address


@pytest.mark.parametrize(("text", "line_number", "reason"), [
    ("    link/ether 00:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n", 1, "expected an interface header"),
    ("2: eth0 <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n", 1, "expected '<index>"),
    ("2: eth0: <UP> mtu 1500 bogus 3\n    link/ether 00:00:00:00:00:01\n", 1, "unknown words"),
    ("2: eth0: <UP> mtu big\n    link/ether 00:00:00:00:00:01\n", 1, "mtu is not a number"),
    ("2: eth0: <UP> state UP\n    link/ether 00:00:00:00:00:01\n", 1, "without 'mtu'"),
    ("2: eth0: <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n       valid_lft forever preferred_lft forever\n",
     3, "lifetime line without an address"),
    ("2: eth0: <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n    inet 10.0.0.1 scope global eth0\n",
     3, "without a prefix length"),
    ("2: eth0: <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n    inet 10.0.0.1/8 brd 10.255.255.255\n",
     3, "without 'scope'"),
    ("2: eth0: <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n  odd indent\n", 3, "unexpected indentation"),
    ("1: lo: <UP> mtu 1500\n    link/loopback 00:00:00:00:00:00\n2: eth0: <UP> mtu 1500\n", 3, "no 'link/' line"),
    ("2: vx: <UP> mtu 1500\n    link/ether 00:00:00:00:00:01\n    vxlan local 1.2.3.4\n", 3, "without 'id'"),
])
def test_malformed_output_names_the_line(text, line_number, reason):
    with pytest.raises(ParseError) as caught:
        parse_ip_address_show(text, "ip netns exec qdhcp-1 ip address show")
    error = caught.value
    assert error.line_number == line_number and reason in error.reason
    assert error.line == text.splitlines()[line_number - 1]
    assert str(error).startswith(f"ip netns exec qdhcp-1 ip address show: line {line_number}: ")
