"""Generating the lab's Cisco ACI fabric: two spines, leaves in vPC pairs, every physical
host NIC cabled to a leaf port, every leaf cabled to every spine.

Leaves are nodes 101…, spines 201… (or the next free hundred); host ports are
``eth1/1``–``eth1/48`` and the uplinks ``eth1/49`` and ``eth1/50``; a spine's port
``eth1/<n>`` faces leaf number n. A host's NICs alternate between the two leaves of its
pair, so the two members of a bond land on different leaves, as vPC wants.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from calipso_core.lab.records import AciFabric, AciSwitch, FabricLink, Host, HostLink

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

HOST_PORTS_PER_LEAF = 48
SPINES = 2
LEAF_MODEL = "N9K-C93180YC-EX"
SPINE_MODEL = "N9K-C9336PQ"
SWITCH_VERSION = "n9000-14.2(7f)"


def build_fabric(model: LabModel) -> AciFabric:
    """Cable every host of ``model``; deterministic for a given model."""
    host_links, pair_count = _cable_hosts(list(model.hosts.values()))
    leaves = [_switch(model, 101 + i, "leaf", pair=i // 2 + 1) for i in range(pair_count * 2)]
    spine_base = 201 if 100 + len(leaves) < 201 else ((100 + len(leaves)) // 100 + 1) * 100 + 1
    spines = [_switch(model, spine_base + i, "spine") for i in range(SPINES)]
    fabric_links = tuple(
        FabricLink(leaf_id=leaf.node_id, leaf_port=f"eth1/{49 + s}", spine_id=spine.node_id,
                   spine_port=f"eth1/{li + 1}")
        for li, leaf in enumerate(leaves) for s, spine in enumerate(spines)
    )
    return AciFabric(pod=1, switches=(*leaves, *spines), host_links=tuple(host_links), fabric_links=fabric_links)


def _cable_hosts(hosts: list[Host]) -> tuple[list[HostLink], int]:
    links: list[HostLink] = []
    pair = 0
    used = [0, 0]  # host ports taken on the two leaves of the current pair
    for host in hosts:
        nics = host.physical_nics
        need = [(len(nics) + 1) // 2, len(nics) // 2]
        if used[0] + need[0] > HOST_PORTS_PER_LEAF or used[1] + need[1] > HOST_PORTS_PER_LEAF:
            pair, used = pair + 1, [0, 0]
        for i, nic in enumerate(nics):
            side = i % 2
            used[side] += 1
            links.append(HostLink(host=host.name, pnic=nic.name, mac=nic.mac, leaf_id=101 + pair * 2 + side,
                                  port=f"eth1/{used[side]}"))
    return links, pair + 1


def _switch(model: LabModel, node_id: int, role: str, pair: int | None = None) -> AciSwitch:
    rng = model.ids.rng
    serial = "FDO" + "".join(rng.choice(string.digits) for _ in range(4)) + \
        "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(4))
    return AciSwitch(node_id=node_id, name=f"{role}-{node_id}", role=role, serial=serial,
                     model=LEAF_MODEL if role == "leaf" else SPINE_MODEL,
                     address=f"10.0.{100 + node_id // 250}.{node_id % 250 + 1}", version=SWITCH_VERSION, pair=pair)
