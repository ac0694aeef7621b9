"""``cat /proc/net/bonding/BOND``: a bond (EtherChannel) and its slave NICs.

Blocks separated by blank lines: the driver line, the bond's settings (with sections
such as ``802.3ad info`` and tab-indented ``Active Aggregator Info:`` fields), then one
block per slave starting with ``Slave Interface: <name>``::

    Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

    Bonding Mode: fault-tolerance (active-backup)
    Currently Active Slave: eth0
    MII Status: up

    Slave Interface: eth0
    MII Status: up
    Permanent HW addr: 52:54:00:12:34:56
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined

_DRIVER_KEY = "Ethernet Channel Bonding Driver"
_SLAVE_KEY = "Slave Interface"
BOND_DIR = "/proc/net/bonding"


def bond_command(bond: str) -> str:
    return f"cat {BOND_DIR}/{bond}"


@dataclass(frozen=True)
class BondField:
    """One line: ``key: value`` (``value`` None for a heading without a colon, like
    ``802.3ad info``; ``""`` for ``Active Aggregator Info:``), with its indent."""

    key: str
    value: str | None = None
    indent: str = ""


Block = tuple[BondField, ...]


def field_value(fields: Iterable[BondField], key: str) -> str | None:
    """The value of the first unindented field named ``key``."""
    return next((f.value for f in fields if f.key == key and not f.indent), None)


@dataclass(frozen=True)
class BondSlave:
    """A member NIC of the bond and the fields printed under its ``Slave Interface`` line."""

    name: str
    fields: Block = ()

    @property
    def mii_status(self) -> str | None:
        return field_value(self.fields, "MII Status")

    @property
    def permanent_mac(self) -> str | None:
        """The NIC's own MAC (``Permanent HW addr``); the bond may have changed the live one."""
        return field_value(self.fields, "Permanent HW addr")


@dataclass(frozen=True)
class Bond:
    """A bond: its driver version, its setting blocks (blank-line separated, in order)
    and its slaves."""

    name: str
    driver: str
    blocks: tuple[Block, ...] = ()
    slaves: tuple[BondSlave, ...] = ()

    def value(self, key: str) -> str | None:
        """The value of the bond setting ``key`` (e.g. ``Bonding Mode``), if printed."""
        return next((v for block in self.blocks if (v := field_value(block, key)) is not None), None)

    @property
    def mode(self) -> str | None:
        return self.value("Bonding Mode")

    @property
    def mii_status(self) -> str | None:
        return self.value("MII Status")

    @property
    def active_slave(self) -> str | None:
        return self.value("Currently Active Slave")

    @classmethod
    def active_backup(cls, name: str, slaves: Mapping[str, str], active: str | None = None) -> Bond:
        """An active-backup bond over ``slaves`` (name → permanent MAC), all links up."""
        active = active or next(iter(slaves), "None")
        settings = tuple(BondField(k, v) for k, v in (
            ("Bonding Mode", "fault-tolerance (active-backup)"), ("Primary Slave", "None"),
            ("Currently Active Slave", active), ("MII Status", "up"), ("MII Polling Interval (ms)", "100"),
            ("Up Delay (ms)", "0"), ("Down Delay (ms)", "0"),
        ))
        members = tuple(
            BondSlave(slave, tuple(BondField(k, v) for k, v in (
                ("MII Status", "up"), ("Speed", "10000 Mbps"), ("Duplex", "full"),
                ("Link Failure Count", "0"), ("Permanent HW addr", mac), ("Slave queue ID", "0"),
            )))
            for slave, mac in slaves.items()
        )
        return cls(name, "v3.7.1 (April 27, 2011)", (settings,), members)


def parse_bond(text: str, name: str, command: str | None = None) -> Bond:
    """The bond ``name`` from the content of ``/proc/net/bonding/<name>``."""
    command = command or bond_command(name)
    blocks = _blocks(body_lines(text))
    if not blocks:
        raise ParseError(command, f"expected '{_DRIVER_KEY}: <version>'", 1, text.splitlines()[0] if text else "")
    number, line = blocks[0][0]
    key, _, driver = line.partition(":")
    if key != _DRIVER_KEY or len(blocks[0]) != 1:
        raise ParseError(command, f"expected '{_DRIVER_KEY}: <version>' alone in the first block", number, line)
    settings: list[Block] = []
    slaves: list[BondSlave] = []
    for block in blocks[1:]:
        fields = tuple(_parse_field(command, n, line) for n, line in block)
        if fields[0].key == _SLAVE_KEY and not fields[0].indent:
            slaves.append(BondSlave(fields[0].value or "", fields[1:]))
        elif slaves:
            raise ParseError(command, "bond settings after the first slave", *block[0])
        else:
            settings.append(fields)
    return Bond(name, driver.strip(), tuple(settings), tuple(slaves))


def _blocks(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = [[]]
    for number, line in lines:
        if line.strip():
            blocks[-1].append((number, line))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _parse_field(command: str, number: int, line: str) -> BondField:
    text = line.rstrip()
    body = text.lstrip()
    indent = text[: len(text) - len(body)]
    key, colon, value = body.partition(":")
    if not colon:
        if indent or not body.lower().endswith("info"):
            raise ParseError(command, "expected '<key>: <value>' or a section heading", number, line)
        return BondField(body, None, indent)
    return BondField(key, value.strip(), indent)


def render_bond(bond: Bond) -> str:
    """The content of ``/proc/net/bonding/<name>`` for ``bond``."""
    blocks: list[list[str]] = [[f"{_DRIVER_KEY}: {bond.driver}"]]
    blocks += [[_render_field(f) for f in block] for block in bond.blocks]
    blocks += [[f"{_SLAVE_KEY}: {s.name}", *(_render_field(f) for f in s.fields)] for s in bond.slaves]
    return joined([line for block in blocks for line in ["", *block]][1:])


def _render_field(f: BondField) -> str:
    if f.value is None:
        return f.indent + f.key
    return f"{f.indent}{f.key}: {f.value}" if f.value else f"{f.indent}{f.key}:"
