"""brctl show: the recorded bridges with continuation lines, layout, malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.brctl import Bridge, parse_brctl_show, render_brctl_show

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def as_upstream(bridge: Bridge) -> dict:
    """A bridge as the original's brctl parser returned it."""
    return {"bridge_id": bridge.bridge_id, "bridge_name": bridge.name, "interfaces": ",".join(bridge.interfaces),
            "stp_enabled": "yes" if bridge.stp_enabled else "no"}


def test_recorded_bridges_are_the_ones_expected_upstream():
    text = recorded("brctl_show.txt")
    bridges = parse_brctl_show(text)
    expected = json.loads(recorded("cli_fetch_vconnectors_ovs_test_data.json"))["PARSE_CM_RESULTS"]
    assert [as_upstream(b) for b in bridges] == expected
    access = json.loads(recorded("cli_access_test_data.json"))
    assert [as_upstream(b) for b in bridges[:2]] == access["PARSED_CMD_RESULT"]
    assert render_brctl_show(bridges) == text


def test_bridges_with_none_one_and_several_interfaces_round_trip():
    bridges = (Bridge("br-int", "8000.000000000000"), Bridge("brq1", "8000.fa163e000001", True, ("tap1",)),
               Bridge("qbr1f72bd15-8a", "8000.fa163ee87f04", False, ("qvb1f72bd15-8a", "tap1f72bd15-8a")))
    text = render_brctl_show(bridges)
    assert text.splitlines()[1] == "br-int\t\t8000.000000000000\tno\t\t"
    assert text.splitlines()[2] == "brq1\t\t8000.fa163e000001\tyes\t\ttap1"
    assert text.splitlines()[4] == "\t\t\t\t\t\t\ttap1f72bd15-8a"
    assert parse_brctl_show(text) == bridges
    assert parse_brctl_show(render_brctl_show(())) == ()


HEADER = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"


@pytest.mark.parametrize(("text", "line_number"), [
    ("", 1),
    ("bridges\n", 1),
    (HEADER + "\t\t\t\t\t\t\teth0\n", 2),
    (HEADER + "br0\t\t8000.005056acc9a2\tmaybe\t\teth0\n", 2),
    (HEADER + "br0\t\tnot-an-id\tno\t\teth0\n", 2),
    (HEADER + "br0\t\t8000.005056acc9a2\tno\t\teth0 eth1\n", 2),
])
def test_malformed_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_brctl_show(text)
    assert caught.value.line_number == line_number and caught.value.command == "brctl show"
