"""virsh list: the recorded table, libvirt's fixed-width layout, states, malformed rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.virsh import DomainListEntry, parse_virsh_list, render_virsh_list

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def test_recorded_table_parses_and_renders_back():
    text = recorded("virsh_list.txt")
    domains = parse_virsh_list(text)
    assert [(d.id, d.name, d.state) for d in domains] == [
        (2, "instance-00000002", "running"), (27, "instance-0000001c", "running"),
        (38, "instance-00000026", "running"), (39, "instance-00000028", "running")]
    assert render_virsh_list(domains) == text + "\n"  # virsh ends its table with a blank line


def test_stopped_domains_long_names_and_newer_layout():
    domains = (DomainListEntry(1, "instance-00000001", "running"), DomainListEntry(None, "vm two", "shut off"),
               DomainListEntry(12345, "a-very-long-domain-name-longer-than-thirty", "in shutdown"))
    text = render_virsh_list(domains)
    assert text.splitlines()[3] == " -     vm two                         shut off"
    assert parse_virsh_list(text) == domains
    newer = " Id   Name                State\n-----------------------------------\n 3    instance-00000003   paused\n\n"
    assert parse_virsh_list(newer) == (DomainListEntry(3, "instance-00000003", "paused"),)
    assert parse_virsh_list(render_virsh_list(())) == ()


@pytest.mark.parametrize(("text", "line_number"), [
    ("", 1),
    (" Id Name State\n", 1),
    (" Id Name State\n-----\n 2 instance-2 dancing\n", 3),
    (" Id Name State\n-----\n x instance-2 running\n", 3),
    (" Id Name State\n-----\n 2 running\n", 3),
])
def test_malformed_table_names_the_line(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_virsh_list(text, "virsh list --all")
    assert caught.value.line_number == line_number and caught.value.command == "virsh list --all"
