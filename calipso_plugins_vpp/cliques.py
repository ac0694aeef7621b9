"""Clique types for VPP environments. Scoped to the VPP mechanism driver, they outscore
the generic types: the path of a VPP host runs through bridge domains inside VPP, and
out through the bridge domain's NIC (VLAN, flat) or VPP's tunnel endpoint (vxlan). A
network's clique goes from the NICs carrying it to VPP and then only to the network's own
bridge domains (a NIC holds the VLAN sub-interfaces of every network)."""

from __future__ import annotations

from calipso_core.types import CliqueType

VPP_ONLY = ("VPP",)

CLIQUE_TYPES = [
    CliqueType(
        name="instance_vpp", focal_point_type="instance", mechanism_drivers=VPP_ONLY, constraints=("network",),
        link_types=("instance-vnic", "vnic-vconnector", "vconnector-vedge", "vconnector-host_pnic", "vedge-otep",
                    "otep-host_pnic", "host_pnic-network"),
    ),
    CliqueType(
        name="vservice_vpp", focal_point_type="vservice", mechanism_drivers=VPP_ONLY, constraints=("network",),
        link_types=("vservice-vnic", "vnic-vconnector", "vconnector-vedge", "vconnector-host_pnic", "vedge-otep",
                    "otep-host_pnic", "host_pnic-network"),
    ),
    CliqueType(
        name="network_vpp", focal_point_type="network", mechanism_drivers=VPP_ONLY, constraints=("network",),
        link_types=("network-host_pnic", "host_pnic-otep", "otep-vedge", "host_pnic-vedge", "vedge-vconnector",
                    "vconnector-vnic", "vnic-instance", "vnic-vservice"),
    ),
]
