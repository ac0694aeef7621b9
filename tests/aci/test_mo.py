"""Reading APIC answers: the recorded answers of a real APIC parse into the objects
discovery uses, ids follow the original's conventions, and the lab APIC writes every
attribute the recorded answers have."""

from __future__ import annotations

import httpx
import pytest

from calipso_plugins_aci.errors import AciRequestFailed, AciResponseError
from calipso_plugins_aci.lab.fabric import fabric_objects
from calipso_plugins_aci.mo import (
    ClientEndpoint,
    FabricNode,
    LldpNeighbour,
    MacEndpoint,
    PhysicalPort,
    attributes,
    encode_dn,
    imdata,
    node_dn,
    path_endpoint,
    port_id,
    switch_id,
)

URL = "https://apic.example/api/class/x.json"


def only(recorded, name: str) -> dict:
    total, items = imdata(recorded(name), URL)
    assert total == len(items) == 1
    return items[0]


def test_a_learned_mac_gives_its_leaf_and_port(recorded):
    endpoint = MacEndpoint.parse(only(recorded, "epm_mac_ep_by_mac"))
    assert (endpoint.node, endpoint.mac, endpoint.port) == ("topology/pod-1/node-103", "00:50:56:99:5d:70", "eth1/33")


def test_fabric_nodes_and_systems_parse(recorded):
    total, items = imdata(recorded("fabric_node_spines"), URL)
    nodes = [FabricNode.parse(item) for item in items]
    assert total == 2
    assert [(n.dn, n.node_id, n.name, n.role) for n in nodes] == [
        ("topology/pod-1/node-201", "201", "Spine-201", "spine"),
        ("topology/pod-1/node-202", "202", "Spine-202", "spine")]
    system = attributes(only(recorded, "top_system_leaf_103"))
    assert node_dn(system["dn"]) == "topology/pod-1/node-103" and system["address"] == "10.0.16.91"


def test_a_client_endpoint_gives_its_epg_and_ports(recorded):
    endpoint = ClientEndpoint.parse(only(recorded, "fv_cep_with_path_children"))
    assert endpoint.mac == "00:50:56:99:5d:70"
    assert endpoint.epg == "uni/tn-Koren-k8s/ap-Koren-k8s/epg-Koren-k8s"
    assert endpoint.paths == (("topology/pod-1/node-103", "eth1/33"),)


def test_an_lldp_neighbour_on_a_leaf_is_a_spine_port(recorded):
    neighbour = LldpNeighbour.parse(only(recorded, "lldp_adj_ep_leaf_103"))
    assert (neighbour.node, neighbour.port) == ("topology/pod-1/node-103", "eth1/49")
    assert (neighbour.peer_node, neighbour.peer_port, neighbour.peer_name) == (
        "topology/pod-1/node-201", "eth1/3", "Spine-201")


def test_a_physical_port_parses(recorded):
    port = PhysicalPort.parse(only(recorded, "l1_phys_if_eth1_33"))
    assert (port.node, port.port, port.attributes["speed"]) == ("topology/pod-1/node-103", "eth1/33", "1G")


def test_ids_are_those_of_the_original(recorded):
    expected = recorded("aci_fetch_leaf_to_spine_pnics_test_data")["HOSTLINK_PNIC"]
    endpoint = MacEndpoint.parse(only(recorded, "epm_mac_ep_by_mac"))
    leaf = switch_id(endpoint.node, "leaf")
    assert leaf == expected["parent_id"]
    assert port_id(leaf, endpoint.port, endpoint.mac) == expected["id"]
    assert port_id(leaf, "eth1/49") == "switch-pod-1__node-103-leaf-eth1__49"
    assert encode_dn("topology/pod-1/node-103") == "pod-1__node-103"
    assert path_endpoint("topology/pod-1/paths-103/pathep-[eth1/33]") == ("topology/pod-1/node-103", "eth1/33")


def test_an_empty_answer_and_broken_ones(recorded):
    assert imdata(recorded("empty_response"), URL) == (0, [])
    with pytest.raises(AciResponseError, match=URL):
        imdata({"data": []}, URL)
    with pytest.raises(AciResponseError, match="totalCount"):
        imdata({"totalCount": "many", "imdata": []}, URL)
    error = {"totalCount": "1", "imdata": [{"error": {"attributes": {"code": "122", "text": "unknown class"}}}]}
    with pytest.raises(AciRequestFailed, match="error 122: unknown class") as failure:
        imdata(error, URL)
    assert failure.value.code == "122"


RECORDED_CLASSES = {
    "fabricNode": "fabric_node_spines", "topSystem": "top_system_leaf_103", "l1PhysIf": "l1_phys_if_eth1_33",
    "epmMacEp": "epm_mac_ep_by_mac", "fvCEp": "fv_cep_with_path_children", "lldpAdjEp": "lldp_adj_ep_leaf_103",
}


@pytest.mark.parametrize(("cls", "name"), sorted(RECORDED_CLASSES.items()))
def test_the_lab_writes_every_attribute_a_real_apic_writes(recorded, fabric_model, cls, name):
    real = {key for item in imdata(recorded(name), URL)[1] for key in attributes(item)}
    lab = [mo for mo in fabric_objects(fabric_model) if mo.cls == cls]
    assert lab
    for mo in lab:
        assert real <= set(mo.attributes), f"{mo.dn} lacks {sorted(real - set(mo.attributes))}"


def test_the_lab_login_answer_has_the_recorded_fields(recorded, apic):
    real = set(attributes(only(recorded, "aaa_login_response")))
    body = {"aaaUser": {"attributes": {"name": "admin", "pwd": apic.password}}}
    answer = httpx.post(f"{apic.base_url}/api/aaaLogin.json", json=body).json()
    assert real <= set(attributes(imdata(answer, URL)[1][0]))
