"""What a perfect scan of a lab's fabric must find, from the lab model itself, by the
rules in this plugin's README."""

from __future__ import annotations

from calipso_core.lab.model import LabModel
from calipso_core.lab.truth import Truth
from calipso_plugins_aci.lab.fabric import node_dn
from calipso_plugins_aci.mo import port_id, switch_id

#: Mechanism drivers whose hosts' pNICs are scanned under ``openstack.host_pnic``.
HOST_PNIC_DRIVERS = ("OVS", "LXB")


def aci_truth(model: LabModel, env: str) -> Truth:
    truth = Truth()
    fabric = model.aci
    if fabric is None:
        return truth
    truth.folder("switches_folder", f"{env}-switches", env)
    ids = {}
    for switch in fabric.switches:
        ids[switch.node_id] = switch_id(node_dn(switch.node_id), switch.role)
        truth.add("switch", ids[switch.node_id], f"{env}-switches")

    def port(switch: str, port_id_: str) -> None:
        truth.add("switch_pnic", port_id_, switch)
        truth.link("switch-switch_pnic", switch, port_id_)

    for cable in fabric.fabric_links:
        leaf, spine = ids[cable.leaf_id], ids[cable.spine_id]
        uplink, downlink = port_id(leaf, cable.leaf_port), port_id(spine, cable.spine_port)
        port(leaf, uplink)
        port(spine, downlink)
        truth.link("switch_pnic-switch_pnic", uplink, downlink)
    if model.mechanism_driver not in HOST_PNIC_DRIVERS:
        return truth
    with model.lock:
        for cable in fabric.host_links:
            leaf = ids[cable.leaf_id]
            hostlink = port_id(leaf, cable.port, cable.mac)
            port(leaf, hostlink)
            nics = {nic.name: nic for nic in model.hosts[cable.host].pnics}
            nic = nics[cable.pnic]
            truth.link("host_pnic-switch_pnic", f"{nic.name}-{nic.mac}", hostlink)
            if nic.bond:
                bond = nics[nic.bond]
                truth.link("host_pnic-switch_pnic", f"{bond.name}-{bond.mac}", hostlink)
    return truth
