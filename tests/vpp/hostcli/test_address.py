"""vppctl show interface address: L2 membership, L3 addresses, unnumbered interfaces."""

from __future__ import annotations

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.address import (
    InterfaceAddresses,
    L2Bridge,
    L3Address,
    parse_show_addresses,
    render_show_addresses,
)

TEXT = """\
TenGigabitEthernet5/0/0 (up):
  L3 172.16.0.10/16
  L3 2001:db8::10/64
VirtualEthernet0/0/0 (up):
  L2 bridge bd-id 1 idx 1 shg 0  
loop0 (up):
  L2 bridge bd-id 7 idx 2 shg 0 bvi
  L3 10.1.0.1/24 ip4 table-id 5 fib-idx 1
local0 (dn):
tap3 (up): 
  unnumbered, use loop0
"""  # noqa: W291 - VPP prints those trailing spaces


def test_addresses_and_bridges_are_read_and_written_back():
    found = parse_show_addresses(TEXT)
    assert [a.interface for a in found] == ["TenGigabitEthernet5/0/0", "VirtualEthernet0/0/0", "loop0", "local0",
                                            "tap3"]
    nic = found[0]
    assert nic.admin_up and [a.address for a in nic.ipv4] == ["172.16.0.10"] and nic.addresses[1].version == 6
    assert found[1].bridge == L2Bridge(1, 1, 0, False) and found[2].bridge.bvi
    assert found[2].addresses == (L3Address("10.1.0.1", 24, "ip4 table-id 5 fib-idx 1"),)
    assert not found[3].admin_up and found[4].unnumbered == "loop0"
    assert render_show_addresses(found) == TEXT


def test_an_xconnect_round_trips():
    item = (InterfaceAddresses("Gig0/8/0.300", True, xconnect="Gig0/9/0.300"),)
    assert render_show_addresses(item) == "Gig0/8/0.300 (up):\n  L2 xconnect Gig0/9/0.300\n"
    assert parse_show_addresses(render_show_addresses(item)) == item


@pytest.mark.parametrize(("text", "line_number"), [
    ("  L3 10.0.0.1/24\n", 1),
    ("tap0 (up):\n  L3 10.0.0.x/24\n", 2),
    ("tap0 (up):\n  L4 something\n", 2),
    ("tap0 (sideways):\n", 1),
])
def test_malformed_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_addresses(text)
    assert caught.value.line_number == line_number and "show interface address" in str(caught.value)
