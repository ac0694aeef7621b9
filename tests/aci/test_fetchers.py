"""The fetchers and link finders against the lab APIC, without the OpenStack plugin:
host pNICs are written as that plugin writes them, and what comes out is compared with
the lab's ground truth for the fabric."""

from __future__ import annotations

import pytest
from aci_helpers import PASSWORD

from calipso_core.scan.context import ScanContext
from calipso_core.scan.engine import assign_paths, environment_root
from calipso_core.scan.links import find_links
from calipso_plugins_aci.fetchers import fetch_fabric_ports, fetch_host_ports, fetch_switches
from calipso_plugins_aci.lab.truth import aci_truth
from calipso_plugins_aci.links import LINK_FINDERS

ENV = "fabric-test"


@pytest.fixture
def ctx(calipso, apic):
    section = {"name": "ACI", "host": "127.0.0.1", "port": apic.port, "protocol": "http", "user": "admin",
               "pwd": PASSWORD}
    context = ScanContext({"name": ENV, "aci_enabled": True, "configuration": [section]}, calipso.inventory)
    yield context
    context.close()


def host_pnics(model) -> list[dict]:
    """Every host pNIC as the OpenStack plugin stores it (bonds with their members)."""
    docs = []
    for host in model.hosts.values():
        nics = {nic.name: nic for nic in host.pnics}
        for nic in host.pnics:
            doc = {"id": f"{nic.name}-{nic.mac}", "type": "host_pnic", "name": nic.name, "host": host.name,
                   "mac_address": nic.mac, "parent_id": ENV, "parent_type": "environment", "Link detected": True}
            if nic.kind == "bond":
                doc |= {"EtherChannel": True,
                        "members": {m: {"name": m, "mac_address": nics[m].mac} for m in nic.members}}
            docs.append(doc)
    return docs


def fetch_everything(ctx, model) -> dict[str, dict]:
    folder = {"id": f"{ENV}-switches", "type": "switches_folder", "name": "Switches", "parent_id": ENV,
              "parent_type": "environment"}
    found = {folder["id"]: folder}
    for switch in fetch_switches(ctx, folder):
        found[switch["id"]] = {**switch, "type": "switch", "parent_id": folder["id"], "parent_type": folder["type"]}
        for port in fetch_fabric_ports(ctx, found[switch["id"]]):
            found[port["id"]] = {**port, "type": "switch_pnic", "parent_id": switch["id"], "parent_type": "switch"}
    for pnic in host_pnics(model):
        found[pnic["id"]] = pnic
        for port in fetch_host_ports(ctx, pnic):
            found[port["id"]] = {**port, "type": "switch_pnic"}
    return found


def test_the_fetchers_find_the_fabric_of_the_truth(ctx, apic, fabric_model):
    found = fetch_everything(ctx, fabric_model)
    truth = aci_truth(fabric_model, ENV)
    fabric_types = ("switches_folder", "switch", "switch_pnic")
    assert {(i, d["parent_id"]) for i, d in found.items() if d["type"] in fabric_types} == \
        {(i, o["parent_id"]) for i, o in truth.objects.items()}
    leaf = found["switch-pod-1__node-101-leaf"]
    model_leaf = next(s for s in fabric_model.aci.switches if s.node_id == 101)
    assert (leaf["name"], leaf["role"], leaf["ip_address"], leaf["serial"]) == (
        model_leaf.name, "leaf", model_leaf.address, model_leaf.serial)
    ports = [d for d in found.values() if d["type"] == "switch_pnic"]
    assert all(found.get(p["connected_to"]) for p in ports if p["role"] != "hostlink")
    assert all(p["endpoint_groups"] and p["speed"] and "host" in p and p["host"] is None
               for p in ports if p["role"] == "hostlink")
    # each APIC class was read once for the whole scan
    queried = [p for p in apic.paths() if p.startswith("/api/class/")]
    assert sorted(queried) == sorted(set(queried))


def test_a_bond_has_no_port_of_its_own(ctx, fabric_model):
    bonds = [p for p in host_pnics(fabric_model) if p.get("EtherChannel")]
    assert bonds
    assert all(fetch_host_ports(ctx, bond) == [] for bond in bonds)


def test_the_link_finders_find_the_links_of_the_truth(ctx, calipso, fabric_model):
    found = fetch_everything(ctx, fabric_model)
    root = environment_root(ENV)
    assert assign_paths(found, lambda oid: root if oid == ENV else None) == []
    calipso.inventory.upsert_objects(ENV, found.values())
    result = find_links(ctx, LINK_FINDERS)
    assert result.failures == []
    truth = aci_truth(fabric_model, ENV)
    assert {(k["link_type"], k["source_id"], k["target_id"]) for k in result.links} == set(truth.links)
    bonds = {p["id"] for p in host_pnics(fabric_model) if p.get("EtherChannel")}
    ports_of_bonds = {(k["source_id"], k["target_id"]) for k in result.links if k["source_id"] in bonds}
    assert len(ports_of_bonds) == 2 * len(bonds)  # each bond reaches the ports of its two members


def test_an_environment_without_an_aci_section_fails_clearly(calipso):
    context = ScanContext({"name": ENV, "aci_enabled": True, "configuration": []}, calipso.inventory)
    try:
        with pytest.raises(Exception, match="has no ACI configuration section"):
            fetch_switches(context, {"id": f"{ENV}-switches"})
    finally:
        context.close()
