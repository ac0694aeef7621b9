"""vppctl show interface: the recorded table (no MTU column), the current layout, round
trips, malformed output."""

from __future__ import annotations

import json

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.interface import SwInterface, parse_show_interface, render_show_interface


def test_the_recorded_table_gives_the_ports_expected_upstream(shared_fixtures):
    text = (shared_fixtures / "upstream/cli/vppctl_show_int.txt").read_text()
    expected = json.loads((shared_fixtures / "upstream/expected_inventory/db_fetch_vedges_vpp_test_data.json")
                          .read_text())["PORTS"]
    interfaces = parse_show_interface(text)
    assert {i.name: {"id": str(i.index), "name": i.name, "state": i.state} for i in interfaces} == expected
    first = interfaces[0]
    assert first.mtu is None and first.is_up and dict(first.counters)["rx-miss"] == 64525
    assert len(first.counters) == 7 and interfaces[2].counters == ()
    assert render_show_interface(interfaces) == text


def test_the_mtu_layout_round_trips_with_sub_interfaces_and_long_names():
    interfaces = (
        SwInterface("TenGigabitEthernet5/0/0", 1, "up", (9000, 0, 0, 0), (("rx packets", 12), ("drops", 3))),
        SwInterface("TenGigabitEthernet5/0/0.1001", 7, "up", (9000, 0, 0, 0)),
        SwInterface("VirtualEthernet0/0/12345678901234567", 8, "down", (9000, 0, 0, 0), (("tx bytes", 5),)),
        SwInterface("local0", 0, "down", (0, 0, 0, 0)),
    )
    text = render_show_interface(interfaces)
    lines = text.splitlines()
    assert "MTU (L3/IP4/IP6/MPLS)" in lines[0]
    assert lines[1].startswith("TenGigabitEthernet5/0/0           1      up          9000/0/0/0     rx packets")
    assert lines[2] == " " * 68 + "drops" + " " * 26 + "3"
    assert parse_show_interface(text) == interfaces
    assert interfaces[1].sub_id == 1001 and interfaces[0].sub_id is None


def test_interfaces_either_all_have_an_mtu_or_none():
    with pytest.raises(ValueError, match="MTU"):
        render_show_interface([SwInterface("a", 0, "up", (1, 0, 0, 0)), SwInterface("b", 1, "up")])


HEADER = "              Name               Idx       State          Counter          Count     \n"


@pytest.mark.parametrize(("text", "line_number"), [
    ("Name Idx Link Hardware\n", 1),
    (HEADER + "   rx packets 5\n", 2),
    (HEADER + "local0 zero down\n", 2),
    (HEADER + "local0 0 up rx\n", 2),
    (HEADER + "local0 0 up\n\nlocal1 1 up\n", 3),
    (HEADER + "local0 0 up rx packets many\n", 2),
])
def test_malformed_tables_name_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_interface(text)
    assert caught.value.line_number == line_number and "show interface" in str(caught.value)
