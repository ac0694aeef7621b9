"""``virsh list [--all]``: the libvirt domains (instances) of a compute host.

::

     Id    Name                           State
    ----------------------------------------------------
     2     instance-00000002              running
     -     instance-00000003              shut off

(``-`` is the id of a domain that is not running; the table ends with a blank line.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined

VIRSH_LIST = "virsh list"
VIRSH_LIST_ALL = "virsh list --all"
STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended", "no state")
_ROW = " {:<5} {:<30} {}"
_RULE = "-" * 52


@dataclass(frozen=True)
class DomainListEntry:
    """One row of ``virsh list``: ``id`` None for a domain that is not running."""

    id: int | None
    name: str
    state: str


def parse_virsh_list(text: str, command: str = VIRSH_LIST) -> tuple[DomainListEntry, ...]:
    """The domains in a ``virsh list`` table (old fixed-width or newer auto-width layout)."""
    lines = body_lines(text)
    if len(lines) < 2 or lines[0][1].split() != ["Id", "Name", "State"] or set(lines[1][1].strip()) != {"-"}:
        number, line = lines[0] if lines else (1, "")
        raise ParseError(command, "expected the header ' Id  Name  State' and a rule of dashes", number, line)
    return tuple(_parse_row(command, number, line) for number, line in lines[2:] if line.strip())


def _parse_row(command: str, number: int, line: str) -> DomainListEntry:
    text = line.strip()
    state = next((s for s in STATES if text.endswith(" " + s)), None)
    if state is None:
        raise ParseError(command, "row does not end with a known domain state", number, line)
    id_text, _, name = text[: -len(state)].strip().partition(" ")
    if not name.strip() or not (id_text == "-" or id_text.isdigit()):
        raise ParseError(command, "expected '<id or -> <name> <state>'", number, line)
    return DomainListEntry(None if id_text == "-" else int(id_text), name.strip(), state)


def render_virsh_list(domains: Iterable[DomainListEntry]) -> str:
    """The table ``virsh list`` prints for ``domains`` (libvirt's classic layout)."""
    lines = [_ROW.format("Id", "Name", "State").rstrip(), _RULE]
    lines += [_ROW.format("-" if d.id is None else d.id, d.name, d.state) for d in domains]
    return joined([*lines, ""])
