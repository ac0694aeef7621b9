"""vppctl show mode: the recorded bridge domain, every mode round trips, malformed output."""

from __future__ import annotations

import json

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.mode import BRIDGE, XCONNECT, InterfaceMode, parse_show_mode, render_show_mode


def test_the_recorded_modes_give_the_bridge_domain_expected_upstream(shared_fixtures):
    text = (shared_fixtures / "upstream/cli/vppctl_show_mode.txt").read_text()
    (expected,) = json.loads((shared_fixtures / "upstream/cli/cli_fetch_vconnectors_vpp_test_data.json")
                             .read_text())["OUPUT"]
    modes = parse_show_mode(text)
    members = [m.interface for m in modes if m.mode == BRIDGE and str(m.bd_id) == expected["bd_id"]]
    assert members == expected["interfaces_names"]
    assert [m.interface for m in modes if m.mode == "l3"] == [
        "local0", "pg/stream-0", "pg/stream-1", "pg/stream-2", "pg/stream-3", "TenGigabitEthernetd/0/0"]
    assert render_show_mode(modes) == text


def test_bvi_and_xconnect_round_trip():
    modes = (InterfaceMode("loop0", BRIDGE, 7, 0, bvi=True), InterfaceMode("tap0", BRIDGE, 7, 2),
             InterfaceMode("Gig0/8/0.300", XCONNECT, peer="Gig0/9/0.300"), InterfaceMode("local0"))
    text = render_show_mode(modes)
    assert text == ("l2 bridge loop0 bd_id 7 bvi shg 0\nl2 bridge tap0 bd_id 7 shg 2\n"
                    "l2 xconnect Gig0/8/0.300 Gig0/9/0.300\nl3 local0  \n")
    assert parse_show_mode(text) == modes


@pytest.mark.parametrize(("text", "line_number"), [
    ("l4 local0\n", 1),
    ("l3 local0  \nl2 bridge tap0 bd_id x shg 0\n", 2),
    ("l3 local0  \nl2 xconnect tap0\n", 2),
])
def test_malformed_modes_name_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_mode(text)
    assert caught.value.line_number == line_number and "show mode" in str(caught.value)
