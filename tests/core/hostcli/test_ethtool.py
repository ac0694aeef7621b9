"""ethtool IF: recorded output, the upstream pNIC fields, link-mode layout, malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.ethtool import EthtoolInfo, ethtool_command, parse_ethtool, render_ethtool

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"
NOT_ETHTOOL = {"data", "host", "id", "local_name", "mac_address", "name"}


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def upstream_pnic() -> dict:
    return json.loads(recorded("cli_fetch_host_pnics_test_data.json"))


def as_stored(info: EthtoolInfo) -> dict:
    """The fields the way the original stored them on a host_pnic (lists for several lines)."""
    return {k: v if isinstance(v, str) else list(v) for k, v in info.fields.items()}


def test_recorded_output_gives_the_fields_expected_upstream():
    text = recorded("ethtool_eno16777728.txt")
    info = parse_ethtool(text, ethtool_command("eno16777728"))
    after_set = upstream_pnic()["INTERFACE_AFTER_SET"]
    assert info.interface == after_set["local_name"]
    assert as_stored(info) == {k: v for k, v in after_set.items() if k not in NOT_ETHTOOL}
    assert render_ethtool(info) == text


def test_full_settings_of_the_upstream_pnic_render_like_ethtool_and_round_trip():
    interface = upstream_pnic()["INTERFACE"]
    fields = {k: v if isinstance(v, str) else tuple(v) for k, v in interface.items() if k not in NOT_ETHTOOL}
    info = EthtoolInfo("eno16777728", fields)
    text = render_ethtool(info)
    assert "\tAdvertised link modes:  10baseT/Half 10baseT/Full \n\t                        100baseT/Half" in text
    assert "\tCurrent message level: 0x00000007 (7)\n\t\t\t       drv probe link\n" in text
    assert "\tLink detected: yes\n" in text
    parsed = parse_ethtool(text)
    assert parsed == info and as_stored(parsed) == {k: v for k, v in interface.items() if k not in NOT_ETHTOOL}
    assert parsed.link_detected is True and parsed.speed == "1000Mb/s"


def test_link_partner_modes_and_missing_values():
    info = EthtoolInfo("eth1", {"Link partner advertised link modes": "Not reported", "Speed": "Unknown!",
                                "Link detected": "no"})
    text = render_ethtool(info)
    assert "\tLink partner advertised link modes:  Not reported\n" in text
    assert parse_ethtool(text) == info and info.link_detected is False
    assert EthtoolInfo("eth2").link_detected is None and EthtoolInfo("eth2").speed is None


@pytest.mark.parametrize(("text", "line_number"), [
    ("", 1),
    ("Settings eth0\n\tSpeed: 10Mb/s\n", 1),
    ("Settings for eth0:\nSpeed: 10Mb/s\n", 2),
    ("Settings for eth0:\n\tSpeed 10Mb/s\n", 2),
    ("Settings for eth0:\n\t\tcontinued before any key\n", 2),
])
def test_malformed_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_ethtool(text, "ethtool eth0")
    assert caught.value.line_number == line_number and caught.value.command == "ethtool eth0"
