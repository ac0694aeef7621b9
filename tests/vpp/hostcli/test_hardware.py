"""vppctl show hardware-interfaces: the recorded DPDK and tap interfaces, round trips,
malformed output."""

from __future__ import annotations

import json

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.hardware import (
    HardwareTable,
    HwInterface,
    parse_show_hardware,
    render_show_hardware,
)


def test_the_recorded_nic_gives_the_details_expected_upstream(shared_fixtures):
    text = (shared_fixtures / "upstream/cli/vppctl_show_hardware_int_tengigabitethernetc_0_0.txt").read_text()
    expected = json.loads((shared_fixtures / "upstream/cli/cli_fetch_vconnectors_vpp_test_data.json")
                          .read_text())["GET_INTERFACE_DETAIL"]
    (nic,) = parse_show_hardware(text).interfaces
    assert {"name": nic.name, "id": str(nic.index), "state": nic.link, "hardware": nic.hardware,
            "mac_address": nic.mac} == expected
    assert nic.link_speed is None and "" in nic.details and nic.details[-1].endswith("6711404")
    assert render_show_hardware(parse_show_hardware(text)) == text


def test_the_recorded_tap_and_tunnels_keep_their_header(shared_fixtures):
    text = (shared_fixtures / "upstream/cli/vppctl_show_hardware_interfaces_k8s_tap.txt").read_text()
    table = parse_show_hardware(text)
    assert [(i.name, i.index, i.link, i.mac) for i in table.interfaces] == [
        ("tap1", 4, "up", "66:3d:dc:96:6d:a1"), ("vxlan_tunnel0", 5, "up", None), ("vxlan_tunnel1", 6, "up", None)]
    assert table.by_name()["vxlan_tunnel0"].details == ("  VXLAN",)
    assert render_show_hardware(table) == text


def test_a_table_round_trips_with_link_speed_and_a_slave():
    interfaces = (
        HwInterface("BondEthernet0", 3, "up", "Slave-Idx: 1 2", ("  Link speed: 20 Gbps",
                                                                 "  Ethernet address 3c:fd:fe:00:00:01")),
        HwInterface("TenGigabitEthernet5/0/0", 1, "slave", "TenGigabitEthernet5/0/0", ("  Link speed: 10 Gbps",)),
        HwInterface("local0", 0, "down", "local0", ("  Link speed: unknown", "  local")),
    )
    text = render_show_hardware(interfaces)
    assert text.splitlines()[1] == "BondEthernet0                      3     up   Slave-Idx: 1 2"
    table = parse_show_hardware(text)
    assert table == HardwareTable(interfaces)
    assert table.interfaces[0].link_speed == "20 Gbps" and table.interfaces[0].mac == "3c:fd:fe:00:00:01"


HEADER = "              Name                Idx   Link  Hardware\n"


@pytest.mark.parametrize(("text", "line_number"), [
    ("Name Idx State\n", 1),
    (HEADER + "  Ethernet address 00:25:b5:99:00:5c\n", 2),
    (HEADER + "tap1 x up tap1\n", 2),
    (HEADER + "tap1 4 sideways tap1\n", 2),
    (HEADER + "tap1 4 up tap1\n  Ethernet address 00:25:b5:99\n", 3),
])
def test_malformed_tables_name_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_hardware(text)
    assert caught.value.line_number == line_number and "show hardware-interfaces" in str(caught.value)
