"""Link finders for OpenStack hosts with Open vSwitch or Linux bridge.

They read only the stored inventory, so ``calipso scan ENV --only links`` works alone.
Interfaces that belong to one Neutron port share the port id's first 11 characters
after their prefix (``tap``, ``qvb``, ``qvo``, ``ns-``, ``qr-``, ``qg-``), which is how
the two ends of a veth pair are matched.
"""

from __future__ import annotations

from collections import defaultdict

from calipso_core.scan.context import ScanContext
from calipso_core.scan.links import instance_vnic_links, link, on_host, oteps, vedges
from calipso_core.types import Document, LinkFinder

PORT_PREFIXES = ("tap", "qvb", "qvo", "qbr", "brq", "ns-", "qr-", "qg-", "ha-")
TUNNEL_TYPES = ("vxlan", "gre", "geneve")


def port_key(interface: str) -> str | None:
    for prefix in PORT_PREFIXES:
        if interface.startswith(prefix):
            return interface[len(prefix):len(prefix) + 11]
    return None


def vnic_networks(ctx: ScanContext) -> dict[str, str | None]:
    """Each vNIC's network: a vService vNIC's own, an instance vNIC's from its instance."""

    def compute():
        instances = {i["id"]: i for i in ctx.objects("instance")}
        networks = {}
        for vnic in ctx.objects("vnic"):
            network = vnic.get("network")
            if vnic.get("vnic_type") == "instance_vnic":
                info = instances.get(vnic.get("instance_id"), {}).get("network_info", [])
                network = next((n["network"]["id"] for n in info if n.get("address") == vnic.get("mac_address")), None)
            networks[vnic["id"]] = network
        return networks

    return ctx.cached(("openstack", "vnic-networks"), compute)


def find_instance_vnic(ctx: ScanContext) -> list[Document]:
    return instance_vnic_links(ctx, lambda vnic: vnic.get("vnic_type") == "instance_vnic", vnic_networks(ctx))


def find_vservice_vnic(ctx: ScanContext) -> list[Document]:
    vservices = {v["id"]: v for v in ctx.objects("vservice")}
    names = {n["id"]: n["name"] for n in ctx.objects("network")}
    links = []
    for vnic in ctx.objects("vnic"):
        vservice = vservices.get(vnic.get("vservice_id"))
        if vnic.get("vnic_type") == "vservice_vnic" and vservice:
            network = vnic.get("network")
            name = names.get(network) or f"{vservice['id']}-{vnic['id']}"
            links.append(link("vservice-vnic", vservice, vnic, name, network))
    return links


def find_vnic_vconnector(ctx: ScanContext) -> list[Document]:
    return ctx.cached(("openstack", "vnic-vconnector"), lambda: _vnic_vconnector(ctx))


def _vnic_vconnector(ctx: ScanContext) -> list[Document]:
    keyed = {host: {port_key(v["name"]): v for v in vnics if port_key(v["name"])}
             for host, vnics in on_host(ctx.objects("vnic")).items()}
    networks = vnic_networks(ctx)
    links = []
    for vconnector in ctx.objects("vconnector"):
        by_key = keyed.get(vconnector.get("host"), {})
        for interface in vconnector.get("interfaces_names", []):
            vnic = by_key.get(port_key(interface))
            if vnic is not None and (vnic["name"] == interface or vnic.get("vnic_type") == "vservice_vnic"):
                links.append(link("vnic-vconnector", vnic, vconnector, vnic.get("mac_address") or vnic["name"],
                                  networks.get(vnic["id"]), interface=interface))
    return links


def vconnector_networks(ctx: ScanContext) -> dict[str, str | None]:
    """A vConnector's network: the one of the vNICs it holds (None if they disagree);
    without vNICs (the bridge of a stopped instance, whose tap is gone), the one of the
    port its name carries, so that its link to the vEdge joins that network's clique only."""
    found: dict[str, set] = defaultdict(set)
    for item in find_vnic_vconnector(ctx):
        found[item["target_id"]].add(item["attributes"].get("network"))
    ports = {(p.get("binding:host_id"), p["id"][:11]): p.get("network_id") for p in ctx.objects("port")}
    return {v["id"]: (next(iter(nets)) if len(nets) == 1 else None) if (nets := found.get(v["id"]))
            else ports.get((v.get("host"), port_key(v["name"]))) for v in ctx.objects("vconnector")}


def find_vconnector_host_pnic(ctx: ScanContext) -> list[Document]:
    pnics = on_host(ctx.objects("host_pnic"))
    links = []
    for vconnector in ctx.objects("vconnector"):
        by_name = {p["name"]: p for p in pnics.get(vconnector.get("host"), [])}
        for interface in vconnector.get("interfaces_names", []):
            pnic = by_name.get(interface.split(".", 1)[0])
            if pnic is not None:
                links.append(link("vconnector-host_pnic", vconnector, pnic, pnic["name"], interface=interface))
    return links


def find_vedge_links(ctx: ScanContext) -> list[Document]:
    """vnic-vedge, vconnector-vedge and vedge-host_pnic: what each vEdge port leads to."""
    vnics, pnics, vconnectors = (on_host(ctx.objects(t)) for t in ("vnic", "host_pnic", "vconnector"))
    networks, connector_networks = vnic_networks(ctx), vconnector_networks(ctx)
    links = []
    for vedge in vedges(ctx):
        host = vedge.get("host")
        host_vnics = {v["name"]: v for v in vnics.get(host, [])}
        host_pnics = {p["name"]: p for p in pnics.get(host, [])}
        bridges = {i: c for c in vconnectors.get(host, []) for i in c.get("interfaces_names", [])}
        for name, port in sorted(vedge.get("ports", {}).items()):
            tag = port.get("tag")
            if name in host_vnics:
                vnic = host_vnics[name]
                links.append(link("vnic-vedge", vnic, vedge, f"{vnic['name']}-{vedge['name']}",
                                  networks.get(vnic["id"]), vedge_port=port.get("id"), tag=tag))
            elif name in host_pnics:
                pnic = host_pnics[name]
                state = "down" if pnic.get("Link detected") is False else "up"
                links.append(link("vedge-host_pnic", vedge, pnic, f"Port-{port.get('id')}", state=state,
                                  vedge_port=port.get("id")))
            elif name.startswith("qvo") and "qvb" + name[3:] in bridges:
                vconnector = bridges["qvb" + name[3:]]
                links.append(link("vconnector-vedge", vconnector, vedge, f"port-{port.get('id')}",
                                  connector_networks.get(vconnector["id"]), vedge_port=port.get("id"), tag=tag))
    return links


def find_otep_links(ctx: ScanContext) -> list[Document]:
    """vedge-otep, otep-vconnector and otep-host_pnic."""
    by_id = {v["id"]: v for v in vedges(ctx)}
    vconnectors = {v["id"]: v for v in ctx.objects("vconnector")}
    pnics = on_host(ctx.objects("host_pnic"))
    links = []
    for otep in oteps(ctx):
        vedge = by_id.get(otep.get("parent_id"))
        if vedge is not None:
            links.append(link("vedge-otep", vedge, otep, f"{vedge['name']}-otep"))
        vconnector = vconnectors.get(otep.get("vconnector"))
        if vconnector is not None:
            links.append(link("otep-vconnector", otep, vconnector, f"{otep['name']}-{vconnector['name']}"))
        for pnic in pnics.get(otep.get("host"), []):
            if pnic.get("IP Address") and pnic.get("IP Address") == otep.get("ip_address"):
                links.append(link("otep-host_pnic", otep, pnic, f"{otep['host']}pnic{pnic['name']}"))
    return links


def network_pnics(ctx: ScanContext, links_so_far: list[Document]) -> dict[tuple[str, str], list[Document]]:
    """The pNICs that carry a network's traffic off a host, by (host, physical network or
    tunnel type): tunnels leave through the OTEP's pNIC; VLAN and flat networks through
    the pNIC their physical network is mapped to (OVS ``bridge_mappings``, Linux bridge
    ``interface_mappings``)."""
    pnics = {p["id"]: p for p in ctx.objects("host_pnic")}
    host_pnics = on_host(pnics.values())
    carried: dict[tuple[str, str], list[Document]] = defaultdict(list)
    for item in links_so_far:
        if item["link_type"] == "otep-host_pnic":
            carried[(item["host"], "tunnel")].append(pnics[item["target_id"]])
    for vedge in vedges(ctx):
        ports = vedge.get("ports", {})
        for physnet, bridge in vedge.get("configurations", {}).get("bridge_mappings", {}).items():
            carried[(vedge["host"], physnet)] += [p for p in host_pnics.get(vedge["host"], [])
                                                  if ports.get(p["name"], {}).get("bridge") == bridge]
    for agent in ctx.objects("network_agent"):
        for physnet, interface in agent.get("configurations", {}).get("interface_mappings", {}).items():
            carried[(agent["host"], physnet)] += [p for p in host_pnics.get(agent["host"], [])
                                                  if p["name"] == interface]
    return carried


def find_host_pnic_network(ctx: ScanContext) -> list[Document]:
    networks = {n["id"]: n for n in ctx.objects("network")}
    carried = network_pnics(ctx, find_otep_links(ctx))
    on_hosts: set[tuple[str, str]] = {(p.get("binding:host_id"), p.get("network_id")) for p in ctx.objects("port")
                                      if p.get("binding:host_id")}
    links = []
    for host, network_id in sorted(on_hosts):
        network = networks.get(network_id)
        if network is None:
            continue
        kind = network.get("provider:network_type")
        physnet = "tunnel" if kind in TUNNEL_TYPES else network.get("provider:physical_network")
        for pnic in carried.get((host, physnet), []):
            state = "down" if pnic.get("Link detected") is False else "up"
            links.append(link("host_pnic-network", pnic, network, f"Segment-{network.get('provider:segmentation_id')}",
                              network_id, state=state))
    return links


LINK_FINDERS = [
    LinkFinder("openstack.instance-vnic", ("instance-vnic",), find_instance_vnic),
    LinkFinder("openstack.vservice-vnic", ("vservice-vnic",), find_vservice_vnic),
    LinkFinder("openstack.vnic-vconnector", ("vnic-vconnector",), find_vnic_vconnector),
    LinkFinder("openstack.vconnector-host_pnic", ("vconnector-host_pnic",), find_vconnector_host_pnic),
    LinkFinder("openstack.vedge", ("vnic-vedge", "vconnector-vedge", "vedge-host_pnic"), find_vedge_links),
    LinkFinder("openstack.otep", ("vedge-otep", "otep-vconnector", "otep-host_pnic"), find_otep_links),
    LinkFinder("openstack.host_pnic-network", ("host_pnic-network",), find_host_pnic_network),
]
