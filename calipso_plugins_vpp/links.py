"""Link finders for VPP hosts. They read only the stored inventory.

A bridge domain's members are matched by MAC: a vhost-user interface has its vNIC's MAC,
a tap's kernel end (``host_mac_address``) the MAC of the namespace device a vService vNIC
is. A bridge domain's network is the one of the Neutron ports whose MACs its members
carry, else the one its vxlan VNI or VLAN sub-interface id names.
"""

from __future__ import annotations

from collections import defaultdict

from calipso_core.scan.context import ScanContext
from calipso_core.scan.links import instance_vnic_links, link, on_host, oteps, vedges
from calipso_core.types import Document, LinkFinder

TUNNEL_TYPES = ("vxlan", "gre", "geneve")


def vpp_vedges(ctx: ScanContext) -> dict[str, Document]:
    """The VPP vEdges by host."""
    return {v["host"]: v for v in vedges(ctx) if v.get("agent_type") == "VPP"}


def bridge_domains(ctx: ScanContext) -> list[Document]:
    return [v for v in ctx.objects("vconnector") if "bd_id" in v]


def pnic_named(pnics: list[Document], interface: str) -> Document | None:
    """The pNIC an interface is (or is a VLAN sub-interface ``<pnic>.<id>`` of)."""
    base = interface.split(".", 1)[0]
    return next((p for p in pnics if p["name"] == base), None)


def vnic_networks(ctx: ScanContext) -> dict[str, str | None]:
    """Each vNIC's network: an instance vNIC's from its instance's port with its MAC, a
    vService vNIC's own."""

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

    return ctx.cached(("vpp", "vnic-networks"), compute)


def member_macs(vconnector: Document) -> dict[str, str]:
    """MAC → member interface: a vhost-user interface's own MAC, a tap's kernel end's."""
    found = {}
    for name, member in vconnector.get("interfaces", {}).items():
        mac = member.get("host_mac_address") or member.get("mac_address")
        if mac:
            found[mac] = name
    return found


def domain_networks(ctx: ScanContext) -> dict[str, str | None]:
    """Each bridge domain's network (None when unknown or ambiguous)."""

    def compute():
        ports = {(p.get("binding:host_id"), p.get("mac_address")): p["network_id"] for p in ctx.objects("port")}
        segments = {(n.get("provider:network_type"), n.get("provider:segmentation_id")): n["id"]
                    for n in ctx.objects("network")}
        found = {}
        for vconnector in bridge_domains(ctx):
            nets = {ports[(vconnector["host"], mac)] for mac in member_macs(vconnector)
                    if (vconnector["host"], mac) in ports}
            if not nets:
                for member in vconnector.get("interfaces", {}).values():
                    key = ("vxlan", member.get("vni")) if "vni" in member else ("vlan", member.get("vlan"))
                    if key[1] is not None and key in segments:
                        nets.add(segments[key])
            found[vconnector["id"]] = next(iter(nets)) if len(nets) == 1 else None
        return found

    return ctx.cached(("vpp", "domain-networks"), compute)


def find_instance_vnic(ctx: ScanContext) -> list[Document]:
    return instance_vnic_links(ctx, lambda vnic: vnic.get("vif_type") == "vhostuser", vnic_networks(ctx))


def find_vnic_vconnector(ctx: ScanContext) -> list[Document]:
    vnics = on_host(ctx.objects("vnic"))
    networks = vnic_networks(ctx)
    links = []
    for vconnector in bridge_domains(ctx):
        by_mac = {v.get("mac_address"): v for v in vnics.get(vconnector["host"], []) if v.get("mac_address")}
        for mac, interface in member_macs(vconnector).items():
            vnic = by_mac.get(mac)
            if vnic is not None:
                links.append(link("vnic-vconnector", vnic, vconnector, mac, networks.get(vnic["id"]),
                                  interface=interface))
    return links


def find_vconnector_links(ctx: ScanContext) -> list[Document]:
    """vconnector-vedge (the VPP holding the bridge domain) and vconnector-host_pnic (a
    member on a NIC, directly or as a VLAN sub-interface)."""
    on_hosts, pnics = vpp_vedges(ctx), on_host(ctx.objects("host_pnic"))
    networks = domain_networks(ctx)
    links = []
    for vconnector in bridge_domains(ctx):
        host = vconnector["host"]
        if host in on_hosts:
            vedge = on_hosts[host]
            links.append(link("vconnector-vedge", vconnector, vedge, f"{vconnector['name']}-{vedge['name']}",
                              networks.get(vconnector["id"]), bd_id=vconnector["bd_id"]))
        for interface in vconnector.get("interfaces_names", []):
            pnic = pnic_named(pnics.get(host, []), interface)
            if pnic is not None:
                links.append(link("vconnector-host_pnic", vconnector, pnic, pnic["name"], interface=interface))
    return links


def find_vedge_host_pnic(ctx: ScanContext) -> list[Document]:
    pnics = on_host(ctx.objects("host_pnic"))
    links = []
    for host, vedge in vpp_vedges(ctx).items():
        by_name = {p["name"]: p for p in pnics.get(host, [])}
        for name, port in sorted(vedge.get("ports", {}).items()):
            if name in by_name:
                pnic = by_name[name]
                state = "down" if pnic.get("Link detected") is False else "up"
                links.append(link("vedge-host_pnic", vedge, pnic, f"Port-{port.get('id')}", state=state,
                                  vedge_port=port.get("id")))
    return links


def find_otep_links(ctx: ScanContext) -> list[Document]:
    """vedge-otep (the OTEP of a VPP vEdge) and otep-host_pnic (the pNIC holding its address)."""
    by_id = {v["id"]: v for v in vpp_vedges(ctx).values()}
    pnics = on_host(ctx.objects("host_pnic"))
    links = []
    for otep in oteps(ctx):
        vedge = by_id.get(otep.get("parent_id"))
        if vedge is None:
            continue
        links.append(link("vedge-otep", vedge, otep, f"{vedge['name']}-otep"))
        for pnic in pnics.get(otep["host"], []):
            if pnic.get("IP Address") and pnic.get("IP Address") == otep.get("ip_address"):
                links.append(link("otep-host_pnic", otep, pnic, f"{otep['host']}pnic{pnic['name']}"))
    return links


def find_host_pnic_network(ctx: ScanContext) -> list[Document]:
    """The pNICs that carry a network bound to a VPP host: for vxlan (and other tunnels)
    the OTEP's pNIC; for VLAN and flat networks the pNIC in the network's bridge domain."""
    on_hosts, networks = vpp_vedges(ctx), {n["id"]: n for n in ctx.objects("network")}
    pnics = {p["id"]: p for p in ctx.objects("host_pnic")}
    tunnel_pnics: dict[str, list[str]] = defaultdict(list)
    for item in find_otep_links(ctx):
        if item["link_type"] == "otep-host_pnic":
            tunnel_pnics[item["host"]].append(item["target_id"])
    domain_pnics: dict[tuple[str, str], list[str]] = defaultdict(list)
    domain_network = domain_networks(ctx)
    for item in find_vconnector_links(ctx):
        if item["link_type"] == "vconnector-host_pnic" and domain_network.get(item["source_id"]):
            domain_pnics[(item["host"], domain_network[item["source_id"]])].append(item["target_id"])
    bound = {(p.get("binding:host_id"), p.get("network_id")) for p in ctx.objects("port")}
    links = []
    for host, network_id in sorted(b for b in bound if b[0] in on_hosts and b[1] in networks):
        network = networks[network_id]
        tunnel = network.get("provider:network_type") in TUNNEL_TYPES
        for pnic_id in dict.fromkeys(tunnel_pnics[host] if tunnel else domain_pnics[(host, network_id)]):
            pnic = pnics[pnic_id]
            state = "down" if pnic.get("Link detected") is False else "up"
            links.append(link("host_pnic-network", pnic, network, f"Segment-{network.get('provider:segmentation_id')}",
                              network_id, state=state))
    return links


LINK_FINDERS = [
    LinkFinder("vpp.instance-vnic", ("instance-vnic",), find_instance_vnic,
               description="an instance and its vhost-user vNICs"),
    LinkFinder("vpp.vnic-vconnector", ("vnic-vconnector",), find_vnic_vconnector,
               description="vNICs in bridge domains, by MAC"),
    LinkFinder("vpp.vconnector", ("vconnector-vedge", "vconnector-host_pnic"), find_vconnector_links,
               description="bridge domains to their VPP and NICs"),
    LinkFinder("vpp.vedge-host_pnic", ("vedge-host_pnic",), find_vedge_host_pnic,
               description="VPP to the NICs it drives"),
    LinkFinder("vpp.otep", ("vedge-otep", "otep-host_pnic"), find_otep_links,
               description="VPP's vxlan tunnel endpoint"),
    LinkFinder("vpp.host_pnic-network", ("host_pnic-network",), find_host_pnic_network,
               description="the NICs that carry each network off a VPP host"),
]
