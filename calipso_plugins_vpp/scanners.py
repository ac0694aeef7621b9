"""The VPP scanner entries, hung by name under the OpenStack plugin's scanners:

    openstack.host
      vconnectors_folder / vconnector                     (bridge domains)
      vedges_folder / vedge
        pnics_folder / host_pnic [/ openstack.host_pnic]   (the NICs VPP drives; ACI hangs below)
        otep                                              (with vxlan tunnels)
    openstack.instance_vnics
      vnic                                                (vhost-user vNICs)
"""

from __future__ import annotations

from calipso_core.types import FetchType, Folder, Scanner

VPP = {"mechanism_drivers": ["VPP"]}

SCANNERS = [
    Scanner("vpp.host", (
        FetchType("vconnectors_folder", folder=Folder("vconnectors", "vConnectors"), children_scanner="vpp.vconnectors",
                  environment_condition=VPP),
        FetchType("vedges_folder", folder=Folder("vedges", "vEdges"), children_scanner="vpp.vedges",
                  environment_condition=VPP),
    ), extends="openstack.host"),
    Scanner("vpp.vconnectors", (FetchType("vconnector", fetcher="vpp.vconnectors"),)),
    Scanner("vpp.vedges", (FetchType("vedge", fetcher="vpp.vedges", children_scanner="vpp.vedge"),)),
    Scanner("vpp.vedge", (
        FetchType("pnics_folder", folder=Folder("host_pnics", "host_pNICs"), children_scanner="vpp.host_pnics"),
        FetchType("otep", fetcher="vpp.oteps"),
    )),
    Scanner("vpp.host_pnics", (FetchType("host_pnic", fetcher="vpp.host_pnics",
                                         children_scanner="openstack.host_pnic"),)),
    Scanner("vpp.instance_vnics", (FetchType("vnic", fetcher="vpp.instance_vnics", environment_condition=VPP),),
            extends="openstack.instance_vnics"),
]
