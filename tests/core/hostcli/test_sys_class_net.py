"""ls -l /sys/class/net: physical vs virtual interfaces, ls layout, malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.sys_class_net import NetDeviceEntry, parse_ls_sys_class_net, render_ls_sys_class_net

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def test_recorded_pnics_are_the_interface_names_expected_upstream():
    names = json.loads(recorded("cli_fetch_host_pnics_test_data.json"))["INTERFACE_NAMES"]
    entries = parse_ls_sys_class_net(recorded("ls_l_sys_class_net.txt"))
    assert [e.name for e in entries if e.is_physical] == names
    assert entries[0].target == "../../devices/0000:02:00.0/net/eno16777728"
    assert entries[0].group is None and entries[0].modified == "Jul  5 17:17"
    assert render_ls_sys_class_net(entries) == "total 0\n" + recorded("ls_l_sys_class_net.txt")


REAL_LS = """\
total 0
-rw-r--r-- 1 root root 4096 Jan  3  2023 bonding_masters
lrwxrwxrwx 1 root root    0 Jul  5 17:17 br-int -> ../../devices/virtual/net/br-int
lrwxrwxrwx 1 root root    0 Jul  5 17:17 eno1 -> ../../devices/pci0000:00/0000:00:03.0/net/eno1
lrwxrwxrwx 1 root root    0 Jul  5 17:17 tap1f72bd15-8a -> ../../devices/virtual/net/tap1f72bd15-8a
"""


def test_ls_columns_are_aligned_like_ls_and_round_trip():
    entries = parse_ls_sys_class_net(REAL_LS)
    assert [(e.name, e.is_interface, e.is_physical, e.is_virtual) for e in entries] == [
        ("bonding_masters", False, False, False), ("br-int", True, False, True),
        ("eno1", True, True, False), ("tap1f72bd15-8a", True, False, True)]
    assert entries[0].size == 4096 and entries[0].modified == "Jan  3  2023"
    assert render_ls_sys_class_net(entries) == REAL_LS


def test_built_entries_round_trip():
    entries = (NetDeviceEntry("eth0", "../../devices/pci0000:00/net/eth0", modified="Dec 24 09:05"),
               NetDeviceEntry("vxlan-5", "../../devices/virtual/net/vxlan-5", links=12, owner="nobody"))
    assert parse_ls_sys_class_net(render_ls_sys_class_net(entries)) == entries


@pytest.mark.parametrize(("text", "line_number"), [
    ("total 0\nlrwxrwxrwx 1 root root 0 Jul 5 17:17 eth0 -> a -> b\n", 2),
    ("lrwxrwxrwx 1 root root 0 Jul 5 eth0 -> x\n", 1),
    ("total 0\nhello world\n", 2),
    ("lrwxrwxrwx one root root 0 Jul 5 17:17 eth0 -> x\n", 1),
])
def test_malformed_line_is_named(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_ls_sys_class_net(text)
    assert caught.value.line_number == line_number and caught.value.line == text.splitlines()[line_number - 1]
