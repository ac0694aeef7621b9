"""Fetchers (source ``rest``) that read the fabric from the APIC.

Each APIC class is read once per scan, whole (``ctx.cached``), and indexed: the fabric's
nodes, their systems, physical ports, learned MAC addresses, client endpoints and LLDP
neighbours. Three fetchers use them:

- ``aci.switches`` (under the ``switches`` folder): every leaf and spine;
- ``aci.host_ports`` (under each host pNIC): the leaf port where the pNIC's MAC address
  was learned, placed under its leaf;
- ``aci.fabric_ports`` (under each switch): its ports with a fabric node as LLDP
  neighbour: ``uplink`` on a leaf, ``downlink`` on a spine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calipso_core.scan.context import ScanContext
from calipso_core.types import Document, Fetcher
from calipso_plugins_aci.mo import (
    ClientEndpoint,
    FabricNode,
    LldpNeighbour,
    MacEndpoint,
    PhysicalPort,
    attributes,
    mac_key,
    port_id,
    switch_id,
)

if TYPE_CHECKING:
    from calipso_plugins_aci.apic import ApicClient

SWITCH_ROLES = ("leaf", "spine")
SWITCH_FILTER = 'or(eq(fabricNode.role,"leaf"),eq(fabricNode.role,"spine"))'
PORT_FILTER = 'wcard(epmMacEp.ifId,"eth")'
#: Fields a switch port must not take from the host pNIC it was fetched under.
NOT_INHERITED = {"host": None, "region": None}


def apic(ctx: ScanContext) -> ApicClient:
    """The scan's APIC session, logged in once (a failed login is not tried again in the
    same scan) and logged out when the scan ends."""
    return ctx.client("aci", _logged_in)


def _logged_in(ctx: ScanContext) -> ApicClient:
    from calipso_plugins_aci.apic import ApicClient  # with httpx: for environments with an APIC only

    client = ApicClient.from_section(ctx.section("ACI"))
    try:
        client.login()
    except BaseException:
        client.close()
        raise
    return client


def _read(ctx: ScanContext, name: str, load: Callable[[ApicClient], Any]) -> Any:
    return ctx.cached(("aci", name), lambda: load(apic(ctx)))


def fabric_nodes(ctx: ScanContext) -> dict[str, FabricNode]:
    """Leaves and spines by node dn."""
    def load(client: ApicClient):
        nodes = [FabricNode.parse(item) for item in client.query_class("fabricNode", SWITCH_FILTER)]
        return {node.dn: node for node in nodes if node.role in SWITCH_ROLES}

    return _read(ctx, "fabricNode", load)


def systems(ctx: ScanContext) -> dict[str, dict[str, str]]:
    """``topSystem`` attributes by node dn."""
    def load(client: ApicClient):
        found = (attributes(item) for item in client.query_class("topSystem"))
        return {a["dn"].removesuffix("/sys"): a for a in found if a.get("dn")}

    return _read(ctx, "topSystem", load)


def physical_ports(ctx: ScanContext) -> dict[tuple[str, str], dict[str, str]]:
    """``l1PhysIf`` attributes by (node dn, port)."""
    def load(client: ApicClient):
        ports = (PhysicalPort.parse(item) for item in client.query_class("l1PhysIf"))
        return {(p.node, p.port): p.attributes for p in ports if p}

    return _read(ctx, "l1PhysIf", load)


def learned_macs(ctx: ScanContext) -> dict[str, list[MacEndpoint]]:
    """MAC addresses learned on physical ports, by MAC (lower case)."""
    def load(client: ApicClient):
        found: dict[str, list[MacEndpoint]] = defaultdict(list)
        for item in client.query_class("epmMacEp", PORT_FILTER):
            endpoint = MacEndpoint.parse(item)
            if endpoint is not None:
                found[endpoint.mac].append(endpoint)
        return dict(found)

    return _read(ctx, "epmMacEp", load)


def client_endpoints(ctx: ScanContext) -> dict[str, list[ClientEndpoint]]:
    """EPG client endpoints with the ports they are attached to, by MAC."""
    def load(client: ApicClient):
        params = {"rsp-subtree": "children", "rsp-subtree-class": "fvRsCEpToPathEp"}
        found: dict[str, list[ClientEndpoint]] = defaultdict(list)
        for item in client.query_class("fvCEp", params=params):
            endpoint = ClientEndpoint.parse(item)
            if endpoint is not None:
                found[endpoint.mac].append(endpoint)
        return dict(found)

    return _read(ctx, "fvCEp", load)


def lldp_neighbours(ctx: ScanContext) -> dict[str, list[LldpNeighbour]]:
    """LLDP neighbours by the node that sees them."""
    def load(client: ApicClient):
        found: dict[str, list[LldpNeighbour]] = defaultdict(list)
        for item in client.query_class("lldpAdjEp"):
            neighbour = LldpNeighbour.parse(item)
            if neighbour is not None:
                found[neighbour.node].append(neighbour)
        return dict(found)

    return _read(ctx, "lldpAdjEp", load)


def port_fields(ctx: ScanContext, node: str, port: str) -> Document:
    found = physical_ports(ctx).get((node, port), {})
    return {"speed": found.get("speed"), "admin_state": found.get("adminSt"), "mode": found.get("mode"),
            "usage": found.get("usage"), "port_type": found.get("portT")}


def fetch_switches(ctx: ScanContext, folder: Document) -> list[Document]:
    found = systems(ctx)
    switches = []
    for node in fabric_nodes(ctx).values():
        system = found.get(node.dn, {})
        sid = switch_id(node.dn, node.role)
        switches.append({
            "id": sid, "name": node.name or sid, "role": node.role, "node_id": node.node_id, "dn": node.dn,
            "serial": node.attributes.get("serial"), "model": node.attributes.get("model"),
            "version": node.attributes.get("version"), "ip_address": system.get("address"),
            "oob_address": system.get("oobMgmtAddr"), "system_state": system.get("state"),
            "switch": sid, "aci_document": node.attributes,
        })
    return switches


def fetch_host_ports(ctx: ScanContext, pnic: Document) -> list[Document]:
    """The leaf ports where this host pNIC's MAC address was learned (a bond has none
    of its own: its members are the ones cabled)."""
    mac = pnic.get("mac_address")
    if not mac or pnic.get("EtherChannel"):
        return []
    nodes, epgs = fabric_nodes(ctx), client_endpoints(ctx).get(mac_key(mac), [])
    ports = []
    for endpoint in learned_macs(ctx).get(mac_key(mac), []):
        node = nodes.get(endpoint.node)
        if node is None or node.role != "leaf":
            continue
        sid = switch_id(node.dn, node.role)
        ports.append({
            "id": port_id(sid, endpoint.port, endpoint.mac), "name": endpoint.port, "role": "hostlink",
            "mac_address": endpoint.mac, "switch": sid, "parent_id": sid, "parent_type": "switch",
            "endpoint_groups": sorted({cep.epg for cep in epgs if (endpoint.node, endpoint.port) in cep.paths}),
            **port_fields(ctx, node.dn, endpoint.port), "aci_document": endpoint.attributes, **NOT_INHERITED,
        })
    return ports


def fetch_fabric_ports(ctx: ScanContext, switch: Document) -> list[Document]:
    nodes = fabric_nodes(ctx)
    node = nodes.get(switch.get("dn", ""))
    if node is None:
        return []
    ports = []
    for neighbour in lldp_neighbours(ctx).get(node.dn, []):
        peer = nodes.get(neighbour.peer_node or "")
        if peer is None or {node.role, peer.role} != {"leaf", "spine"}:
            continue
        peer_id = switch_id(peer.dn, peer.role)
        ports.append({
            "id": port_id(switch["id"], neighbour.port), "name": neighbour.port,
            "role": "uplink" if node.role == "leaf" else "downlink", "switch": switch["id"],
            "connected_to": port_id(peer_id, neighbour.peer_port), "peer_switch": peer_id,
            "peer_port": neighbour.peer_port, "peer_name": neighbour.peer_name,
            **port_fields(ctx, node.dn, neighbour.port), "aci_document": neighbour.attributes,
        })
    return ports


FETCHERS = [
    Fetcher("aci.switches", fetch_switches, source="rest", description="leaves and spines (fabricNode, topSystem)"),
    Fetcher("aci.host_ports", fetch_host_ports, source="rest",
            description="the leaf port of a host pNIC (epmMacEp by MAC, fvCEp, l1PhysIf)"),
    Fetcher("aci.fabric_ports", fetch_fabric_ports, source="rest",
            description="a switch's leaf-spine ports (lldpAdjEp, l1PhysIf)"),
]
