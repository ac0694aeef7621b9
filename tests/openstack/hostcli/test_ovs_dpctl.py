"""ovs-dpctl show: the recorded datapath, the ports the original derived, round trips,
malformed output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_openstack.hostcli.ovs_dpctl import (
    Datapath,
    DatapathPort,
    parse_ovs_dpctl_show,
    render_ovs_dpctl_show,
)

UPSTREAM = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream"


def recorded(name: str) -> str:
    if not UPSTREAM.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (UPSTREAM / name).read_text()


def test_recorded_datapath_gives_the_ports_expected_upstream():
    text = recorded("cli/ovs_dpctl_show.txt")
    (datapath,) = parse_ovs_dpctl_show(text)
    expected = json.loads(recorded("expected_inventory/db_fetch_vedges_ovs_test_data.json"))["DPCTL_RESULTS"]
    ports = {p.name: {"name": p.name, "id": str(p.number), "internal": p.internal} for p in datapath.ports}
    assert ports == expected
    assert datapath.name == "system@ovs-system" and datapath.flows == 4
    assert dict(datapath.stats)["lookups"] == "hit:14039304 missed:35687906 lost:0"
    assert render_ovs_dpctl_show((datapath,)) == text


def test_tunnel_and_system_ports_and_nested_stats_round_trip():
    datapaths = (
        Datapath("system@ovs-system", (("lookups", "hit:1 missed:2 lost:0"), ("flows", "0"), ("caches", ""),
                                       ("  masks-cache", "size:256")), (
            DatapathPort(0, "ovs-system", "internal"),
            DatapathPort(3, "vxlan_sys_4789", "vxlan", {"df_default": "false", "ttl": "0"}),
            DatapathPort(4, "eth1"),
        )),
        Datapath("netdev@ovs-netdev", (), (DatapathPort(0, "ovs-netdev", "tap"),)),
    )
    text = render_ovs_dpctl_show(datapaths)
    assert "\tcaches:\n\t  masks-cache: size:256\n" in text
    assert "\tport 3: vxlan_sys_4789 (vxlan: df_default=false, ttl=0)\n\tport 4: eth1\n" in text
    assert parse_ovs_dpctl_show(text) == datapaths


@pytest.mark.parametrize(("text", "line_number"), [
    ("\tflows: 4\n", 1),
    ("system@ovs-system\n", 1),
    ("system@ovs-system:\n\tport x: eth0\n", 2),
    ("system@ovs-system:\n\tport 3: vx (vxlan: ttl)\n", 2),
    ("system@ovs-system:\n\tno colon here\n", 2),
])
def test_malformed_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_ovs_dpctl_show(text)
    assert caught.value.line_number == line_number and caught.value.command == "ovs-dpctl show"
