"""The ACI plugin's part of the lab: an APIC over the lab's fabric."""

from __future__ import annotations

from calipso_core.types import LabService
from calipso_plugins_aci.lab.truth import aci_truth


class _Nothing:
    def stop(self) -> None:
        pass


def start_apic(lab):
    """Serve the APIC when the lab has a fabric, and point the environment at it."""
    if lab.model.aci is None:
        return _Nothing()
    from calipso_plugins_aci.lab.apic import LabApic

    apic = LabApic(lab.model, password=lab.secret, latency_ms=lab.options.latency_ms).start()
    lab.add_section({"name": "ACI", "host": "127.0.0.1", "port": apic.port, "protocol": "http",
                     "user": apic.user, "pwd": lab.secret})
    return apic


LAB_SERVICES = [
    LabService("aci-apic", start_apic, truth=aci_truth,
               description="the APIC of the lab's ACI fabric (with --aci); the fabric's ground truth"),
]
