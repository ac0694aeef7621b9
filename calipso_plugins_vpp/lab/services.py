"""The VPP plugin's part of the lab: ``vppctl`` on the hosts of a VPP lab."""

from __future__ import annotations

from calipso_core.types import LabService
from calipso_plugins_vpp.lab.truth import vpp_truth


class _Nothing:
    def stop(self) -> None:
        pass


def start_hosts(lab):
    """Give every host of a VPP lab its ``vppctl`` and the environment a ``VPP`` section."""
    if lab.model.mechanism_driver == "VPP":
        from calipso_plugins_vpp.lab.vpp_host import vpp_commands

        lab.add_section({"name": "VPP", "vppctl": "vppctl"})
        lab.add_host_commands(vpp_commands)
    return _Nothing()


LAB_SERVICES = [
    LabService("vpp-hosts", start_hosts, truth=vpp_truth, description="vppctl on the hosts; the VPP ground truth"),
]
