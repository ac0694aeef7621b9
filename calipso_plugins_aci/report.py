"""The ACI port mapping report: for every leaf port, what is cabled to it and which
instances and vServices send traffic through it, with their health.

A host port's traffic is that of its host pNIC (and of the bond the pNIC belongs to):
the instances and vServices are the focal points of the cliques that contain one of
them. An uplink shows the spine port at its other end. ``status`` fields are what
monitoring set (None until it did).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from calipso_core.store.tables import cliques
from calipso_core.types import Document

FOCAL_TYPES = ("instance", "vservice")
#: The columns of the report as a table (the JSON rows hold a few ids more).
COLUMNS = ("leaf", "port", "role", "status", "host", "host_pnic", "bond", "peer", "instances", "vservices")


def aci_ports_report(app, env: str) -> list[dict[str, Any]]:
    """One row per port of every leaf of ``env``, in leaf and port order."""
    app.environments.get(env)  # NotFound for an unknown environment
    inventory = app.inventory
    with app.engine.connect() as conn:
        switches = {s["id"]: s for s in inventory.find(env, {"type": "switch"}, conn=conn)}
        ports = {p["id"]: p for p in inventory.find(env, {"type": "switch_pnic"}, conn=conn)}
        cabled: dict[str, list[str]] = defaultdict(list)
        for link in inventory.find_links(env, {"link_type": "host_pnic-switch_pnic"}, conn=conn):
            cabled[link["target_id"]].append(link["source_id"])
        pnics = {p["id"]: p for p in inventory.get_many(env, {i for ids in cabled.values() for i in ids}, conn)}
        crossing = focal_points_by_node(conn, env)
        focal = {d["id"]: d for d in inventory.get_many(env, {f for fs in crossing.values() for f in fs}, conn)}
    leaves = {sid for sid, s in switches.items() if s.get("role") == "leaf"}
    rows = []
    for port in sorted((p for p in ports.values() if p.get("parent_id") in leaves), key=_port_order(switches)):
        linked = [pnics[i] for i in cabled.get(port["id"], []) if i in pnics]
        rows.append(_row(port, switches[port["parent_id"]], linked, ports, switches, crossing, focal))
    return rows


def focal_points_by_node(conn, env: str) -> dict[str, set[str]]:
    """For each object id, the instances and vServices whose cliques hold it."""
    query = select(cliques.c.focal_point, cliques.c.nodes).where(
        cliques.c.environment == env, cliques.c.focal_point_type.in_(FOCAL_TYPES))
    found: dict[str, set[str]] = defaultdict(set)
    for focal_point, nodes in conn.execute(query):
        for node in nodes or ():
            found[node].add(focal_point)
    return found


def _port_order(switches: dict[str, Document]):
    def key(port: Document) -> tuple:
        numbers = tuple(int(n) for n in re.findall(r"\d+", port.get("name", "")))
        node = switches[port["parent_id"]].get("node_id") or "0"
        return int(node) if str(node).isdigit() else 0, numbers, port["id"]

    return key


def _item(doc: Document) -> dict[str, Any]:
    return {"id": doc["id"], "name": doc.get("name"), "host": doc.get("host"), "status": doc.get("status")}


def _row(port: Document, leaf: Document, linked: list[Document], ports: dict[str, Document],
         switches: dict[str, Document], crossing: dict[str, set[str]], focal: dict[str, Document]) -> dict[str, Any]:
    nic = next((p for p in linked if not p.get("EtherChannel")), None)
    bond = next((p for p in linked if p.get("EtherChannel")), None)
    through = {f for p in linked for f in crossing.get(p["id"], ())}
    docs = sorted((focal[f] for f in through if f in focal), key=lambda d: (d.get("name") or "", d["id"]))
    peer = ports.get(port.get("connected_to"))
    peer_name = (switches.get(peer.get("parent_id")) or {}).get("name", peer.get("switch")) if peer else None
    return {
        "leaf": leaf.get("name"), "leaf_id": leaf["id"], "port": port.get("name"), "port_id": port["id"],
        "role": port.get("role"), "status": port.get("status"),
        "host": (nic or bond or {}).get("host"), "host_pnic": nic.get("name") if nic else None,
        "host_pnic_id": nic["id"] if nic else None, "host_pnic_status": nic.get("status") if nic else None,
        "bond": bond.get("name") if bond else None,
        "peer": f"{peer_name} {peer.get('name')}" if peer else None,
        "instances": [_item(d) for d in docs if d["type"] == "instance"],
        "vservices": [_item(d) for d in docs if d["type"] == "vservice"],
    }
