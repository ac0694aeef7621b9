"""vppctl show tap: each tap's kernel end (name, namespace, MAC), round trips, malformed output."""

from __future__ import annotations

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.tap import TapInterface, parse_show_tap, render_show_tap

TAPS = (
    TapInterface("tap0", 3, ('  name "ns-6f1c1f38-ab"', '  host-ns "qdhcp-53f0c4a6"', '  host-mtu-size "1450"',
                             "  host-mac-addr: fa:16:3e:12:34:56", "  host-carrier-up: 1", "  features 0x110008000",
                             "    VIRTIO_F_VERSION_1 (32)")),
    TapInterface("tap1", 4, ('  name "tap1"', "  host-mac-addr: 02:fe:00:00:00:01")),
)


def test_the_kernel_end_is_read_from_the_details():
    text = render_show_tap(TAPS)
    assert text.startswith('Interface: tap0 (ifindex 3)\n  name "ns-6f1c1f38-ab"\n')
    parsed = parse_show_tap(text)
    assert parsed == TAPS
    assert (parsed[0].host_if_name, parsed[0].host_ns, parsed[0].host_mac) == (
        "ns-6f1c1f38-ab", "qdhcp-53f0c4a6", "fa:16:3e:12:34:56")
    assert parsed[1].host_ns is None
    assert parse_show_tap("") == ()


@pytest.mark.parametrize(("text", "line_number"), [
    ('  name "tap0"\n', 1),
    ("Interface: tap0 (ifindex 3)\nstray line\n", 2),
    ("Interface: tap0 (ifindex 3)\n  host-mac-addr: fa:16:3e\n", 2),
])
def test_malformed_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_tap(text)
    assert caught.value.line_number == line_number and "show tap" in str(caught.value)
