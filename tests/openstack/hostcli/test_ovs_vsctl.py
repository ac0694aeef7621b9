"""ovs-vsctl show / list-br / list-ifaces: the recorded switch, the vEdge ports and tunnel
ports the original derived, OVS quoting, round trips, malformed output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_openstack.hostcli import ovs_vsctl
from calipso_plugins_openstack.hostcli.ovs_vsctl import (
    OvsBridge,
    OvsInterface,
    OvsPort,
    OvsRemote,
    OvsSwitch,
    ovs_vsctl_list_ifaces,
    parse_ovs_vsctl_names,
    parse_ovs_vsctl_show,
    render_ovs_vsctl_names,
    render_ovs_vsctl_show,
)
from calipso_plugins_openstack.hostcli.ovsdb_show_tree import parse_tree
from calipso_plugins_openstack.hostcli.ovsdb_text import ValueSyntaxError, needs_quotes, parse_map, render_map

UPSTREAM = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream"


def recorded(name: str) -> str:
    if not UPSTREAM.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (UPSTREAM / name).read_text()


def test_recorded_switch_gives_the_port_tags_and_tunnel_ports_expected_upstream():
    text = recorded("cli/ovs_vsctl_show.txt")
    switch = parse_ovs_vsctl_show(text)
    vedge = json.loads(recorded("expected_inventory/db_fetch_vedges_ovs_test_data.json"))
    br_int, br_tun = switch.bridges
    assert switch.uuid == "3b12f08e-4e13-4976-8da5-23314b268805" and br_int.fail_mode == "secure"
    tags = {p.name: str(p.tag) for p in br_int.ports}
    assert tags == {name: port["tag"] for name, port in vedge["PORTS"].items() if "tag" in port}
    tunnel_ports = {
        p.name: {"interface": i.name, "name": p.name, "options": dict(i.options), "type": i.type}
        for p in br_tun.ports for i in p.interfaces
    }
    assert tunnel_ports == vedge["TUNNEL_PORTS"]
    assert render_ovs_vsctl_show(switch) == text


FULL_SHOW = """\
6f1e5b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b
    Manager "ptcp:6640:127.0.0.1"
        is_connected: true
    Bridge br-tun
        Controller "tcp:127.0.0.1:6633"
            is_connected: true
        fail_mode: secure
        Port "vxlan-c0a80203"
            Interface "vxlan-c0a80203"
                type: vxlan
                options: {df_default="true", in_key=flow, local_ip="192.168.2.1", out_key=flow, remote_ip="192.168.2.3"}
        Port br-tun
            Interface br-tun
                type: internal
    Bridge br-ex
        datapath_type: netdev
        Port "eth2"
            trunks: [101, 102]
            Interface "eth2"
                error: "could not open network device eth2 (No such device)"
        Port bond-ex
            lacp: active
            Interface "eth3"
            Interface "eth4"
    ovs_version: "2.5.0"
"""


def test_a_full_switch_reads_every_part_and_renders_back_exactly():
    switch = parse_ovs_vsctl_show(FULL_SHOW)
    assert switch.managers == (OvsRemote("ptcp:6640:127.0.0.1", True),)
    assert switch.ovs_version == "2.5.0" and switch.bridge("nope") is None
    br_tun, br_ex = switch.bridges
    assert br_tun.controllers == (OvsRemote("tcp:127.0.0.1:6633", True),)
    vxlan = br_tun.ports[0].interfaces[0]
    assert (vxlan.type, vxlan.remote_ip, vxlan.options["local_ip"], vxlan.options["df_default"]) == (
        "vxlan", "192.168.2.3", "192.168.2.1", "true")
    assert br_ex.datapath_type == "netdev" and br_ex.ports[0].trunks == (101, 102)
    assert br_ex.ports[0].interfaces[0].error == "could not open network device eth2 (No such device)"
    bond = br_ex.ports[1]
    assert bond.other == (("lacp", "active"),) and [i.name for i in bond.interfaces] == ["eth3", "eth4"]
    assert render_ovs_vsctl_show(switch) == FULL_SHOW


def test_records_built_by_the_lab_round_trip_with_ovs_quoting():
    switch = OvsSwitch("0d6e3f5c-9a1b-4c2d-8e7f-6a5b4c3d2e1f", bridges=(
        OvsBridge("br-int", fail_mode="secure", ports=(
            OvsPort("tap1f72bd15-8a", tag=1, interfaces=(OvsInterface("tap1f72bd15-8a"),)),
            OvsPort("patch-tun", interfaces=(OvsInterface("patch-tun", "patch", {"peer": "patch-int"}),)),
            OvsPort("int-br-ex", interfaces=(OvsInterface("int-br-ex", "patch", {"peer": "phy-br-ex"}),)),
        )),
    ), ovs_version="2.11.0")
    text = render_ovs_vsctl_show(switch)
    assert '        Port "tap1f72bd15-8a"\n            tag: 1\n            Interface "tap1f72bd15-8a"\n' in text
    assert "        Port patch-tun\n            Interface patch-tun\n                type: patch\n" in text
    assert parse_ovs_vsctl_show(text) == switch


PLAIN_AND_NOT = FULL_SHOW.replace("    Bridge br-ex", """\
        Port "qvo3ed5e10a-a3"
            tag: 12
            Interface "qvo3ed5e10a-a3"

        Port "vxlan-c0a80204"
            Interface "vxlan-c0a80205"
                type: vxlan
                options: {a="x, y=z", remote_ip="192.168.2.4"}
    Bridge br-ex""")


@pytest.mark.parametrize(("name", "line_by_line"), [
    ("cli/ovs_vsctl_show.txt", []), (None, ['"eth2"', "bond-ex"]),  # trunks, error, two interfaces
])
def test_ports_read_whole_are_what_reading_them_line_by_line_gives(name, line_by_line):
    text = recorded(name) if name else PLAIN_AND_NOT
    root = parse_tree(text, "ovs-vsctl show", {"Port": ovs_vsctl._read_plain_ports})
    items = [item for bridge in root.children if bridge.kind == "Bridge" for item in bridge.children
             if item.kind == "Port"]
    read_whole = [port for item in items if item.parsed for port in item.parsed]
    assert len(read_whole) >= 3 and [item.value for item in items if item.parsed is None] == line_by_line
    assert parse_ovs_vsctl_show(text) == ovs_vsctl._switch(parse_tree(text, "ovs-vsctl show"))


def test_a_line_nested_under_a_port_read_whole_is_an_error():
    text = UUID + "    Bridge br-int\n        Port x\n            Interface x\n\n\r\n                type: vxlan\n"
    with pytest.raises(ParseError) as caught:
        parse_ovs_vsctl_show(text)
    assert caught.value.line_number == 7 and "indentation" in caught.value.reason


@pytest.mark.parametrize(("text", "quoted"), [
    ("br-int", False), ("patch_tun.x", False), ("qr-bb9b8340-72", True), ("", True), ("true", True),
    ("9abc", True), ("tcp:127.0.0.1:6633", True), ("6f1e5b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b", True),
])
def test_strings_are_quoted_like_ovs_vsctl(text, quoted):
    assert needs_quotes(text) is quoted


def test_maps_with_quoted_commas_and_escapes():
    mapping = {"key": 'a, "b"=c', "remote_ip": "10.0.0.1", "peer": "patch-int"}
    text = render_map(mapping)
    assert text == '{key="a, \\"b\\"=c", peer=patch-int, remote_ip="10.0.0.1"}'
    assert parse_map(text) == mapping and parse_map("{}") == {}
    assert parse_map('{a="x, y=z", b=c, d=""}') == {"a": "x, y=z", "b": "c", "d": ""}
    for malformed in ("{a=b,c=d}", "{a=}", '{a="b}', "{ }"):
        with pytest.raises(ValueSyntaxError):
            parse_map(malformed)


def test_list_br_and_list_ifaces():
    assert render_ovs_vsctl_names(["br-tun", "br-int", "br-ex"]) == "br-ex\nbr-int\nbr-tun\n"
    assert parse_ovs_vsctl_names("br-ex\nbr-int\n") == ("br-ex", "br-int")
    command = ovs_vsctl_list_ifaces("br-int")
    assert command == "ovs-vsctl list-ifaces br-int" and parse_ovs_vsctl_names("", command) == ()
    with pytest.raises(ParseError) as caught:
        parse_ovs_vsctl_names("eth0\nphy br-ex\n", command)
    assert caught.value.line_number == 2 and caught.value.command == command


UUID = "3b12f08e-4e13-4976-8da5-23314b268805\n"


@pytest.mark.parametrize(("text", "line_number", "reason"), [
    ("", 1, "UUID"),
    ("Bridge br-int\n", 1, "UUID"),
    (UUID + "    Bridge br-int\n       Port x\n", 3, "indentation"),
    (UUID + "    Bridge br-int\n            Port x\n", 3, "indentation"),
    (UUID + "    Manager \"ptcp:6640\"\n        Port x\n", 3, "'Port' cannot be inside 'Manager'"),
    (UUID + "    Bridge br-int\n        Port x\n            tag: three\n", 4, "tag"),
    (UUID + "    Bridge br-int\n        Port x\n            Interface x\n                options: {a}\n", 5,
     "options"),
    (UUID + "    Bridge \"unterminated\n", 2, "Bridge name"),
    (UUID + "    Bridge br-int\n        just words\n", 3, "expected '<Kind> <name>'"),
])
def test_malformed_show_names_the_line(text, line_number, reason):
    with pytest.raises(ParseError) as caught:
        parse_ovs_vsctl_show(text)
    assert caught.value.line_number == line_number and reason in caught.value.reason
    assert caught.value.command == "ovs-vsctl show"
