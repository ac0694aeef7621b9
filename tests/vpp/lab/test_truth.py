"""The VPP ground truth of a lab, and the lab service that gives a VPP lab's hosts vppctl."""

from __future__ import annotations

from collections import Counter

import pytest

from calipso_core.lab.generate import generate_lab
from calipso_core.lab.model import LabSpec
from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.lab.switching import host_switching
from calipso_core.plugins import get_plugin_manager
from calipso_plugins_vpp.lab.services import start_hosts
from calipso_plugins_vpp.lab.truth import vpp_truth


@pytest.mark.parametrize("types", ["vxlan", "vlan"])
def test_the_truth_has_the_vpp_of_every_switching_host(types):
    model = generate_lab(LabSpec(seed=5, hosts=5, instances=9, mechanism_driver="VPP", type_driver=types))
    truth = vpp_truth(model, "lab-5")
    objects = Counter(o["type"] for o in truth.objects.values())
    links = Counter(key[0] for key in truth.links)
    switching = [h for h in model.hosts.values() if h.has_role("network") or h.has_role("compute")]
    assert objects["vedges_folder"] == objects["vconnectors_folder"] == len(model.hosts)
    assert objects["vedge"] == links["vedge-host_pnic"] - sum(1 for h in switching if h.external_nic) == len(switching)
    assert objects["vconnector"] == links["vconnector-vedge"] == sum(
        len(host_switching(model, h.name).vpp.bridge_domains) for h in switching)
    running = [i for i in model.instances.values() if i.vm_state != "stopped"]
    vnics = {f"{i.host}-instance-{i.number:08x}-vhostuser-{model.ports[p].mac}" for i in running for p in i.port_ids}
    assert {o["id"] for o in truth.objects.values() if o["type"] == "vnic"} == vnics
    assert links["instance-vnic"] == len(vnics) > 0
    domains = [bd for h in switching for bd in host_switching(model, h.name).vpp.bridge_domains]
    flat = sum(1 for bd in domains if model.networks[bd.network_id].network_type == "flat")
    if types == "vxlan":
        assert objects["otep"] == links["vedge-otep"] == links["otep-host_pnic"] > 0
        assert links["vconnector-host_pnic"] == flat > 0
    else:
        assert objects["otep"] == 0 and links["vconnector-host_pnic"] == len(domains)
    assert links["host_pnic-network"] > 0
    assert all(link["attributes"].get("network") for key, link in truth.links.items()
               if key[0] in ("instance-vnic", "vnic-vconnector", "host_pnic-network"))


def test_an_ovs_lab_has_no_vpp_truth():
    model = generate_lab(LabSpec(seed=5, hosts=3, instances=2))
    assert vpp_truth(model, "lab-5").objects == {}


def test_the_service_gives_only_a_vpp_lab_vppctl(tmp_path):
    plugins = get_plugin_manager()
    vpp = Lab(LabOptions(seed=2, hosts=3, instances=2, mechanism_driver="VPP"), plugins, tmp_path / "vpp")
    start_hosts(vpp).stop()
    assert vpp.sections == [{"name": "VPP", "vppctl": "vppctl"}] and len(vpp.host_commands) == 1
    compute = next(h.name for h in vpp.model.hosts.values() if h.has_role("compute"))
    assert "vppctl show mode" in vpp.host_commands[0](vpp.model, compute)
    ovs = Lab(LabOptions(seed=2, hosts=3, instances=2), plugins, tmp_path / "ovs")
    start_hosts(ovs).stop()
    assert ovs.sections == [] and ovs.host_commands == []
