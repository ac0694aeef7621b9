"""End to end: scan a lab with an ACI fabric (real openstacksdk, paramiko, httpx to the
lab APIC, PostgreSQL) and compare the inventory with the lab's ground truth; then the
port mapping report, checked against the lab model."""

from __future__ import annotations

import socket

import pytest

from calipso_core.scan.controller import Scan
from calipso_core.testing import lab_differences
from calipso_plugins_aci.mo import port_id, switch_id
from calipso_plugins_aci.report import aci_ports_report

pytest.importorskip("calipso_plugins_openstack", reason="the fabric's host ports hang under OpenStack host pNICs")

pytestmark = pytest.mark.slow


def leaf_id(lab, node_id: int) -> str:
    return switch_id(f"topology/pod-1/node-{node_id}", "leaf")


@pytest.mark.parametrize(("driver", "types"), [("OVS", "vxlan"), ("LXB", "vlan")])
def test_a_scan_finds_exactly_the_lab_and_its_fabric(calipso, lab_environment, driver, types):
    lab = lab_environment(seed=5, hosts=5, instances=8, mechanism_driver=driver, type_driver=types, aci=True)
    summary = Scan(calipso, lab.options.env_name, concurrency=8).run()
    assert summary.status == "completed", summary.errors
    fabric = lab.model.aci
    assert summary.objects["switch"] == len(fabric.switches)
    assert summary.objects["switch_pnic"] == len(fabric.host_links) + 2 * len(fabric.fabric_links)
    assert summary.links["host_pnic-switch_pnic"] >= len(fabric.host_links)
    assert lab_differences(calipso, lab) == []
    leaves = {c["focal_point"] for c in _cliques(calipso, lab) if c["focal_point_type"] == "switch"}
    assert {leaf_id(lab, leaf.node_id) for leaf in fabric.leaves} <= leaves


def _cliques(calipso, lab):
    from sqlalchemy import select

    from calipso_core.store.tables import cliques

    with calipso.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(cliques.c.focal_point, cliques.c.focal_point_type).where(
                cliques.c.environment == lab.options.env_name))]


def test_an_unreachable_apic_keeps_the_fabric_and_the_rest_is_scanned(calipso, lab_environment):
    lab = lab_environment(seed=6, hosts=4, instances=4, aci=True)
    assert Scan(calipso, lab.options.env_name).run().status == "completed"
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    doc = calipso.environments.get(lab.options.env_name)
    doc["configuration"] = [{**s, "port": closed} if s["name"] == "ACI" else s for s in doc["configuration"]]
    calipso.environments.save(doc, replace=True)
    summary = Scan(calipso, lab.options.env_name).run()
    assert summary.status == "completed_with_errors"
    assert summary.errors and all(f"APIC http://127.0.0.1:{closed}/api/aaaLogin.json" in e for e in summary.errors)
    assert calipso.inventory.count(lab.options.env_name, {"type": "switch"}) == len(lab.model.aci.switches)
    assert calipso.inventory.count(lab.options.env_name, {"type": "instance"}) == 4
    assert lab_differences(calipso, lab) == []


def expected_crossing(lab) -> dict[str, tuple[set[str], set[str]]]:
    """Per host port id, from the model: the running instances and the vServices of the
    host when the port's NIC carries their traffic (the data NIC, a member of the data
    bond, or a NIC on an Open vSwitch bridge: the external one)."""
    model = lab.model
    expected = {}
    for cable in model.aci.host_links:
        host = model.hosts[cable.host]
        nic = next(p for p in host.pnics if p.name == cable.pnic)
        carries = host.data_nic in (nic.name, nic.bond) or nic.name == host.external_nic
        instances, vservices = set(), set()
        if carries:
            instances = {i.id for i in model.host_instances(host.name) if i.vm_state != "stopped" and i.port_ids}
            vservices = {f"{host.name}-qdhcp-{p.network_id}" for p in model.host_ports(host.name)
                         if p.device_owner == "network:dhcp"}
            vservices |= {f"{host.name}-qrouter-{r.id}" for r in model.routers_on(host.name)}
        expected[port_id(leaf_id(lab, cable.leaf_id), cable.port, cable.mac)] = (instances, vservices)
    return expected


def test_the_port_report_lists_every_leaf_port_with_what_crosses_it(calipso, lab_environment):
    lab = lab_environment(seed=7, hosts=5, instances=8, aci=True)
    assert Scan(calipso, lab.options.env_name, concurrency=8).run().status == "completed"
    rows = aci_ports_report(calipso, lab.options.env_name)
    fabric = lab.model.aci
    assert len(rows) == len(fabric.host_links) + len(fabric.fabric_links)
    by_port = {row["port_id"]: row for row in rows}
    expected = expected_crossing(lab)
    for cable in fabric.host_links:
        row = by_port[port_id(leaf_id(lab, cable.leaf_id), cable.port, cable.mac)]
        assert (row["leaf"], row["port"], row["host"], row["host_pnic"]) == (
            f"leaf-{cable.leaf_id}", cable.port, cable.host, cable.pnic)
        instances, vservices = expected[row["port_id"]]
        assert {i["id"] for i in row["instances"]} == instances, row["port_id"]
        assert {v["id"] for v in row["vservices"]} == vservices, row["port_id"]
    assert sum(len(r["instances"]) for r in rows) >= 8
    uplinks = [r for r in rows if r["role"] == "uplink"]
    assert len(uplinks) == len(fabric.fabric_links)
    assert all(r["peer"].startswith("spine-") and not r["instances"] for r in uplinks)
