"""The OpenStack scanner tree, hung under the core's root scanner ``environment``.

    environment
      regions_folder / region
        aggregates_folder / aggregate / host_ref
        availability_zones_folder / availability_zone / host
          instances_folder / instance / vnics_folder / vnic
          vservices_folder / vservice_dhcps_folder, vservice_routers_folder / vservice / vnics_folder / vnic
          pnics_folder / host_pnic                      (OVS, LXB)
          vconnectors_folder / vconnector [/ otep]      (OVS, LXB; LXB vxlan OTEPs below)
          vedges_folder / vedge / otep                  (OVS; OTEP with vxlan)
          network_agents_folder / network_agent
      projects_folder / project / networks_folder / network / ports_folder / port

Other plugins add to ``openstack.host`` (VPP) and ``openstack.host_pnics`` (ACI).
"""

from __future__ import annotations

from calipso_core.types import FetchType, Folder, Scanner

OVS_LXB = {"mechanism_drivers": ["OVS", "LXB"]}
OVS = {"mechanism_drivers": ["OVS"]}
LXB = {"mechanism_drivers": ["LXB"]}
TUNNELS = {"type_drivers": ["vxlan", "gre"]}


def folder(type_: str, types_name: str, text: str, children: str, condition: dict | None = None) -> FetchType:
    return FetchType(type_, folder=Folder(types_name, text), children_scanner=children,
                     environment_condition=condition or {})


def fetch(type_: str, fetcher: str, children: str | None = None, condition: dict | None = None) -> FetchType:
    return FetchType(type_, fetcher=fetcher, children_scanner=children, environment_condition=condition or {})


SCANNERS = [
    Scanner("openstack.root", (
        folder("regions_folder", "regions", "Regions", "openstack.regions"),
        folder("projects_folder", "projects", "Projects", "openstack.projects"),
    ), extends="environment"),
    Scanner("openstack.regions", (fetch("region", "openstack.regions", "openstack.region"),)),
    Scanner("openstack.region", (
        folder("aggregates_folder", "aggregates", "Aggregates", "openstack.aggregates"),
        folder("availability_zones_folder", "availability_zones", "Availability Zones", "openstack.zones"),
    )),
    Scanner("openstack.aggregates", (fetch("aggregate", "openstack.aggregates", "openstack.aggregate"),)),
    Scanner("openstack.aggregate", (fetch("host_ref", "openstack.aggregate_hosts"),)),
    Scanner("openstack.zones", (fetch("availability_zone", "openstack.availability_zones", "openstack.zone"),)),
    Scanner("openstack.zone", (fetch("host", "openstack.hosts", "openstack.host"),)),
    Scanner("openstack.host", (
        folder("instances_folder", "instances", "Instances", "openstack.instances"),
        folder("vservices_folder", "vservices", "vServices", "openstack.vservices"),
        folder("pnics_folder", "host_pnics", "host_pNICs", "openstack.host_pnics", OVS_LXB),
        folder("vconnectors_folder", "vconnectors", "vConnectors", "openstack.vconnectors", OVS_LXB),
        folder("vedges_folder", "vedges", "vEdges", "openstack.vedges", OVS),
        folder("network_agents_folder", "network_agents", "Network agents", "openstack.network_agents"),
    )),
    Scanner("openstack.instances", (fetch("instance", "openstack.instances", "openstack.instance"),)),
    Scanner("openstack.instance", (folder("vnics_folder", "vnics", "vNICs", "openstack.instance_vnics"),)),
    Scanner("openstack.instance_vnics", (fetch("vnic", "openstack.instance_vnics"),)),
    Scanner("openstack.vservices", (
        folder("vservice_dhcps_folder", "dhcps", "DHCP servers", "openstack.dhcp_vservices"),
        folder("vservice_routers_folder", "routers", "Gateways", "openstack.router_vservices"),
    )),
    Scanner("openstack.dhcp_vservices", (fetch("vservice", "openstack.dhcp_vservices", "openstack.vservice"),)),
    Scanner("openstack.router_vservices", (fetch("vservice", "openstack.router_vservices", "openstack.vservice"),)),
    Scanner("openstack.vservice", (folder("vnics_folder", "vnics", "vNICs", "openstack.vservice_vnics"),)),
    Scanner("openstack.vservice_vnics", (fetch("vnic", "openstack.vservice_vnics"),)),
    Scanner("openstack.host_pnics", (fetch("host_pnic", "openstack.host_pnics", "openstack.host_pnic"),)),
    Scanner("openstack.host_pnic", ()),
    Scanner("openstack.vconnectors", (fetch("vconnector", "openstack.vconnectors", "openstack.vconnector"),)),
    Scanner("openstack.vconnector", (fetch("otep", "openstack.lxb_oteps", condition={**LXB, **TUNNELS}),)),
    Scanner("openstack.vedges", (fetch("vedge", "openstack.ovs_vedges", "openstack.vedge"),)),
    Scanner("openstack.vedge", (fetch("otep", "openstack.ovs_oteps", condition=TUNNELS),)),
    Scanner("openstack.network_agents", (fetch("network_agent", "openstack.network_agents"),)),
    Scanner("openstack.projects", (fetch("project", "openstack.projects", "openstack.project"),)),
    Scanner("openstack.project", (folder("networks_folder", "networks", "Networks", "openstack.networks"),)),
    Scanner("openstack.networks", (fetch("network", "openstack.networks", "openstack.network"),)),
    Scanner("openstack.network", (folder("ports_folder", "ports", "Ports", "openstack.ports"),)),
    Scanner("openstack.ports", (fetch("port", "openstack.ports"),)),
]
