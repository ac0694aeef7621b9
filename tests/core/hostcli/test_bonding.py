"""cat /proc/net/bonding/BOND: settings, sections, slaves; round trips; malformed text."""

from __future__ import annotations

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.bonding import Bond, BondField, bond_command, parse_bond, render_bond

LACP_BOND = """\
Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer2 (0)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0

802.3ad info
LACP rate: slow
Min links: 0
Aggregator selection policy (ad_select): stable
Active Aggregator Info:
\tAggregator ID: 1
\tNumber of ports: 2
\tActor Key: 9
\tPartner Key: 1
\tPartner Mac Address: 00:00:00:00:00:00

Slave Interface: eno1
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:12:34:56
Slave queue ID: 0
Aggregator ID: 1
details actor lacp pdu:
    system priority: 65535
    port state: 77

Slave Interface: eno2
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 1
Permanent HW addr: 52:54:00:12:34:57
Slave queue ID: 0
"""


def test_lacp_bond_sections_and_slaves():
    bond = parse_bond(LACP_BOND, "bond0")
    assert bond.driver == "v3.7.1 (April 27, 2011)"
    assert bond.mode == "IEEE 802.3ad Dynamic link aggregation" and bond.mii_status == "up"
    assert bond.active_slave is None and bond.value("LACP rate") == "slow"
    assert BondField("802.3ad info") in bond.blocks[1]
    assert BondField("Active Aggregator Info", "") in bond.blocks[1]
    assert BondField("Actor Key", "9", "\t") in bond.blocks[1]
    assert [(s.name, s.mii_status, s.permanent_mac) for s in bond.slaves] == [
        ("eno1", "up", "52:54:00:12:34:56"), ("eno2", "down", "52:54:00:12:34:57")]
    assert BondField("port state", "77", "    ") in bond.slaves[0].fields
    assert render_bond(bond) == LACP_BOND


def test_active_backup_bond_built_by_the_lab_round_trips():
    bond = Bond.active_backup("bond1", {"eth0": "fa:16:3e:00:00:01", "eth1": "fa:16:3e:00:00:02"})
    text = render_bond(bond)
    assert text.startswith("Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)\n\n"
                           "Bonding Mode: fault-tolerance (active-backup)\n")
    assert "\n\nSlave Interface: eth1\nMII Status: up\n" in text
    assert parse_bond(text, "bond1") == bond
    assert bond.active_slave == "eth0" and bond_command("bond1") == "cat /proc/net/bonding/bond1"


@pytest.mark.parametrize(("text", "line_number", "reason"), [
    ("", 1, "expected"),
    ("Bonding Mode: x\n", 1, "alone in the first block"),
    ("Ethernet Channel Bonding Driver: v3\n\nBonding Mode x\n", 3, "expected '<key>: <value>'"),
    ("Ethernet Channel Bonding Driver: v3\n\nSlave Interface: a\nMII Status: up\n\nMII Status: up\n", 6,
     "after the first slave"),
])
def test_malformed_bond_names_the_line(text, line_number, reason):
    with pytest.raises(ParseError) as caught:
        parse_bond(text, "bond0")
    assert caught.value.line_number == line_number and reason in caught.value.reason
    assert caught.value.command == "cat /proc/net/bonding/bond0"
