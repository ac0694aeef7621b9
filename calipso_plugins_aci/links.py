"""Link finders for the fabric; they read only the stored inventory.

- ``host_pnic-switch_pnic``: a host pNIC and the leaf port where its MAC address was
  learned; a bond is linked to the ports of its members (by their permanent MACs), since
  its traffic crosses both;
- ``switch-switch_pnic``: every switch port and its switch;
- ``switch_pnic-switch_pnic``: a leaf uplink and the spine port at the other end
  (``connected_to``, from LLDP), once per cable.
"""

from __future__ import annotations

from collections import defaultdict

from calipso_core.scan.context import ScanContext
from calipso_core.types import Document, LinkFinder
from calipso_plugins_aci.mo import mac_key


def _link(link_type: str, source: Document, target: Document, name: str, **fields) -> Document:
    return {"link_type": link_type, "source_id": source["id"], "target_id": target["id"], "link_name": name,
            "state": "up", "attributes": {}, **fields}


def pnic_macs(pnic: Document) -> list[str]:
    """The MACs a host pNIC's traffic leaves with: its own, or its members' for a bond."""
    if pnic.get("EtherChannel"):
        return [mac_key(m["mac_address"]) for m in (pnic.get("members") or {}).values() if m.get("mac_address")]
    return [mac_key(pnic["mac_address"])] if pnic.get("mac_address") else []


def find_host_pnic_switch_pnic(ctx: ScanContext) -> list[Document]:
    ports: dict[str, list[Document]] = defaultdict(list)
    for port in ctx.objects("switch_pnic"):
        if port.get("role") == "hostlink" and port.get("mac_address"):
            ports[mac_key(port["mac_address"])].append(port)
    links = []
    for pnic in ctx.objects("host_pnic"):
        state = "down" if pnic.get("Link detected") is False else "up"
        for mac in pnic_macs(pnic):
            for port in ports.get(mac, []):
                links.append(_link("host_pnic-switch_pnic", pnic, port, f"{pnic.get('host')}-{port['switch']}",
                                   state=state, host=pnic.get("host"), switch=port["switch"]))
    return links


def find_switch_switch_pnic(ctx: ScanContext) -> list[Document]:
    switches = {s["id"]: s for s in ctx.objects("switch")}
    links = []
    for port in ctx.objects("switch_pnic"):
        switch = switches.get(port.get("parent_id"))
        if switch is not None:
            links.append(_link("switch-switch_pnic", switch, port, f"{switch['name']}={port['name']}",
                               switch=switch["id"]))
    return links


def find_switch_pnic_switch_pnic(ctx: ScanContext) -> list[Document]:
    ports = {p["id"]: p for p in ctx.objects("switch_pnic")}
    links = []
    for port in ports.values():
        peer = ports.get(port.get("connected_to"))
        if port.get("role") == "uplink" and peer is not None:
            links.append(_link("switch_pnic-switch_pnic", port, peer, port["name"], switch=port.get("switch")))
    return links


LINK_FINDERS = [
    LinkFinder("aci.host_pnic-switch_pnic", ("host_pnic-switch_pnic",), find_host_pnic_switch_pnic,
               description="a host pNIC (or bond) and the leaf ports its MACs were learned on"),
    LinkFinder("aci.switch-switch_pnic", ("switch-switch_pnic",), find_switch_switch_pnic,
               description="every switch port and its switch"),
    LinkFinder("aci.switch_pnic-switch_pnic", ("switch_pnic-switch_pnic",), find_switch_pnic_switch_pnic,
               description="leaf uplink to spine downlink, from LLDP"),
]
