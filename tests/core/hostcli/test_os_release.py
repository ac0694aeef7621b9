"""cat /etc/os-release (with the architecture line): recorded output, quoting, malformed lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.os_release import CAT_OS_RELEASE_AND_ARCH, OsRelease, parse_os_release, render_os_release

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def test_recorded_ubuntu_release():
    text = recorded("cat_etc_os_release_ubuntu_16_04.txt")
    release = parse_os_release(text, CAT_OS_RELEASE_AND_ARCH)
    assert (release.name, release.version, release.id, release.id_like, release.architecture) == (
        "Ubuntu", "16.04 LTS (Xenial Xerus)", "ubuntu", "debian", "x86_64")
    assert release.fields["VERSION_ID"] == "16.04" and release.fields["UBUNTU_CODENAME"] == "xenial"
    assert render_os_release(release) == text.lstrip("\n")  # the recording starts with a blank line


def test_quoting_and_escapes_round_trip():
    release = OsRelease({"NAME": 'Odd "Linux" $HOME \\ `x`', "ID": "odd-linux", "ID_LIKE": "rhel fedora",
                         "VERSION_ID": "9.2", "EMPTY": ""})
    text = render_os_release(release)
    assert 'NAME="Odd \\"Linux\\" \\$HOME \\\\ \\`x\\`"\nID=odd-linux\nID_LIKE="rhel fedora"\n' in text
    assert parse_os_release(text) == release
    assert parse_os_release("# comment\nID='single quoted'\n").id == "single quoted"


@pytest.mark.parametrize(("text", "line_number"), [
    ("NAME=Ubuntu\nthis is not a setting\n", 2),
    ('NAME="Ubuntu\n', 1),
    ("NAME=two words\n", 1),
])
def test_malformed_line_is_named(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_os_release(text)
    assert caught.value.line_number == line_number and caught.value.command == "cat /etc/os-release"
