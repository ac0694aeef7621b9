"""Where the ACI fetch types hang in the scanner tree (only when ``aci_enabled``).

    environment
      switches_folder (<env>-switches) / switch / switch_pnic   (uplinks, downlinks)
    openstack.host_pnic
      switch_pnic   (the pNIC's leaf port, stored under its leaf)

The fabric belongs to the environment (one ``ACI`` section each), not to a region, so
its switches sit in a folder of their own under the environment. The host ports hang
under the OpenStack plugin's host pNICs by scanner name; this plugin does not import it.
"""

from __future__ import annotations

from calipso_core.types import FetchType, Folder, Scanner

ACI = {"aci_enabled": True}

SCANNERS = [
    Scanner("aci.root", (
        FetchType("switches_folder", folder=Folder("switches", "Switches"), children_scanner="aci.switches",
                  environment_condition=ACI),
    ), extends="environment"),
    Scanner("aci.switches", (FetchType("switch", fetcher="aci.switches", children_scanner="aci.switch"),)),
    Scanner("aci.switch", (FetchType("switch_pnic", fetcher="aci.fabric_ports"),)),
    Scanner("aci.host_pnic", (FetchType("switch_pnic", fetcher="aci.host_ports", environment_condition=ACI),),
            extends="openstack.host_pnic"),
]
