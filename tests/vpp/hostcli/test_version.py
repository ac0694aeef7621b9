"""vppctl show version: the recorded build, a current one, malformed output."""

from __future__ import annotations

import json

import pytest

from calipso_core.errors import ParseError
from calipso_plugins_vpp.hostcli.version import VppVersion, parse_show_version, render_show_version


def test_the_recorded_version_gives_the_vedge_binary_expected_upstream(shared_fixtures):
    text = (shared_fixtures / "upstream/cli/vppctl_show_ver.txt").read_text()
    expected = json.loads((shared_fixtures / "upstream/expected_inventory/db_fetch_vedges_vpp_test_data.json")
                          .read_text())["VEDGE_RESULTS"][0]["binary"]
    version = parse_show_version(text)
    assert version.binary == expected == "vpp v16.09-rc0~157-g203c632"
    assert (version.built_by, version.built_on, version.built_at) == (
        "localadmin", "ubuntu0", "Sun Jun 26 16:35:15 PDT 2016")
    assert render_show_version(version) == text


def test_a_release_build_round_trips():
    version = VppVersion("vpp", "v23.10-release", "root", "lab", "2024-01-01T00:00:00")
    text = render_show_version(version)
    assert text == "vpp v23.10-release built by root on lab at 2024-01-01T00:00:00\n"
    assert parse_show_version(text) == version


@pytest.mark.parametrize(("text", "line_number"), [
    ("", 1),
    ("vpp 23.10 built by root on lab at now\n", 1),
    ("vpp v23.10 built by root\n", 1),
    ("vpp v23.10 built by root on lab at now\nsecond line\n", 2),
])
def test_malformed_version_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_show_version(text)
    assert caught.value.line_number == line_number and "show version" in str(caught.value)
