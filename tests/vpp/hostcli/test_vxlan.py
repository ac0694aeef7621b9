"""vppctl show vxlan tunnel: tunnels of current and older VPP, no tunnels, malformed lines."""

from __future__ import annotations

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.vxlan import NO_TUNNELS, VxlanTunnel, parse_show_vxlan, render_show_vxlan


def test_tunnels_round_trip_with_and_without_ports_and_extras():
    tunnels = (
        VxlanTunnel(0, 0, "172.16.0.10", "172.16.0.11", 1001, 5, encap_dpo_index=7),
        VxlanTunnel(1, 42, "172.16.0.10", "239.1.1.1", 1002, 6, None, None, 0, 8, "mcast-sw-if-idx 1"),
    )
    text = render_show_vxlan(tunnels)
    assert text.splitlines()[0] == ("[0] instance 0 src 172.16.0.10 dst 172.16.0.11 src_port 4789 dst_port 4789 "
                                    "vni 1001 fib-idx 0 sw-if-idx 5 encap-dpo-idx 7 ")
    assert parse_show_vxlan(text) == tunnels
    assert [t.name for t in tunnels] == ["vxlan_tunnel0", "vxlan_tunnel42"]


def test_no_tunnels():
    assert render_show_vxlan(()) == NO_TUNNELS + "\n"
    assert parse_show_vxlan(NO_TUNNELS + "\n") == ()


@pytest.mark.parametrize(("text", "line_number"), [
    ("[0] src 10.0.3.1 dst 10.0.3.3 vni 13 encap_fib_index 0 sw_if_index 5 decap_next l2\n", 1),
    ("[0] instance 0 src 10.0.0.1 dst 10.0.0.2 vni 1 fib-idx 0 sw-if-idx 5 encap-dpo-idx 7 \n"
     "[1] instance 1 src 10.0.0.1 dst nowhere vni 1 fib-idx 0 sw-if-idx 6 encap-dpo-idx 8 \n", 2),
])
def test_malformed_lines_are_named(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_vxlan(text)
    assert caught.value.line_number == line_number and "show vxlan tunnel" in str(caught.value)
