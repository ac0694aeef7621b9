"""bridge fdb show: entries of bridges and VXLAN devices, iproute2's word order, malformed lines."""

from __future__ import annotations

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.bridge_fdb import FdbEntry, parse_bridge_fdb_show, render_bridge_fdb_show

FDB = """\
33:33:00:00:00:01 dev eno1 self permanent
fa:16:3e:2e:e5:3b dev tap1f72bd15-8a master brq2e3b85f4-75\x20
6e:1c:4e:2b:d6:2a dev vxlan-52 vlan 1 master brq2e3b85f4-75 permanent
00:00:00:00:00:00 dev vxlan-52 dst 192.168.2.4 self permanent
fa:16:3e:aa:bb:cc dev vxlan-52 dst 192.168.2.5 port 4789 vni 52 via eno2 self offload master brq2e3b85f4-75 stale
"""


def test_entries_and_tunnel_destinations():
    entries = parse_bridge_fdb_show(FDB)
    assert entries[0] == FdbEntry("33:33:00:00:00:01", "eno1", flags=("self",), state="permanent")
    assert entries[1] == FdbEntry("fa:16:3e:2e:e5:3b", "tap1f72bd15-8a", master="brq2e3b85f4-75")
    assert entries[2].vlan == 1 and entries[2].state == "permanent"
    assert [e.dst for e in entries if e.dev == "vxlan-52" and e.dst] == ["192.168.2.4", "192.168.2.5"]
    last = entries[-1]
    assert (last.port, last.vni, last.via, last.flags, last.state) == (4789, 52, "eno2", ("self", "offload"), "stale")
    assert render_bridge_fdb_show(entries) == FDB


def test_flags_are_kept_in_iproute2_order_and_round_trip():
    entry = FdbEntry("fa:16:3e:00:00:01", "vxlan-9", dst="10.0.0.9", flags=("offload", "self"), master="",
                     link_netnsid=2, src_vni=9)
    assert entry.flags == ("self", "offload")
    text = render_bridge_fdb_show([entry])
    assert text == "fa:16:3e:00:00:01 dev vxlan-9 dst 10.0.0.9 src_vni 9 link-netnsid 2 self offload master \n"
    assert parse_bridge_fdb_show(text) == (entry,)
    with pytest.raises(ValueError):
        FdbEntry("fa:16:3e:00:00:01", "tap1", flags=("sticky",))


@pytest.mark.parametrize(("text", "line_number"), [
    ("33:33:00:00:00:01 dev eno1 self permanent\nnot-a-mac dev eno1\n", 2),
    ("33:33:00:00:00:01 dev eno1 sparkly\n", 1),
    ("33:33:00:00:00:01 dev eno1 vlan one\n", 1),
    ("33:33:00:00:00:01 dev\n", 1),
])
def test_malformed_entry_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_bridge_fdb_show(text)
    assert caught.value.line_number == line_number and caught.value.command == "bridge fdb show"
