"""The ACI port mapping report over a stored inventory, and ``calipso report`` printing
it as JSON, CSV and a table."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest
from sqlalchemy.dialects.postgresql import insert

from calipso_core.cli import report_cmd
from calipso_core.errors import NotFound
from calipso_core.store.tables import cliques
from calipso_plugins_aci.report import aci_ports_report

ENV = "report-test"
LEAF, SPINE = "switch-pod-1__node-101-leaf", "switch-pod-1__node-201-spine"
PORT_1 = f"{LEAF}-eth1__1-3c:fd:fe:00:00:01"
PORT_2 = f"{LEAF}-eth1__2-3c:fd:fe:00:00:02"
PORT_10 = f"{LEAF}-eth1__10-3c:fd:fe:00:00:03"
UPLINK, DOWNLINK = f"{LEAF}-eth1__49", f"{SPINE}-eth1__1"


def obj(object_id: str, object_type: str, name: str, parent: str, **fields) -> dict:
    return {"id": object_id, "type": object_type, "name": name, "parent_id": parent,
            "id_path": f"/{ENV}/{object_id}", "name_path": f"/{ENV}/{name}", **fields}


def link(link_type: str, source: str, target: str) -> dict:
    return {"link_type": link_type, "source_id": source, "target_id": target, "link_name": "x"}


@pytest.fixture
def stored(calipso):
    calipso.environments.save({"name": ENV, "distribution": "Calipso-lab", "distribution_version": "1",
                               "mechanism_drivers": ["OVS"], "type_drivers": "vxlan", "listen": False,
                               "aci_enabled": True, "configuration": []})
    calipso.inventory.upsert_objects(ENV, [
        obj(LEAF, "switch", "leaf-101", f"{ENV}-switches", role="leaf", node_id="101"),
        obj(SPINE, "switch", "spine-201", f"{ENV}-switches", role="spine", node_id="201"),
        obj(PORT_10, "switch_pnic", "eth1/10", LEAF, role="hostlink"),
        obj(PORT_2, "switch_pnic", "eth1/2", LEAF, role="hostlink", status="Warning"),
        obj(PORT_1, "switch_pnic", "eth1/1", LEAF, role="hostlink"),
        obj(UPLINK, "switch_pnic", "eth1/49", LEAF, role="uplink", connected_to=DOWNLINK),
        obj(DOWNLINK, "switch_pnic", "eth1/1", SPINE, role="downlink", connected_to=UPLINK),
        obj("eno1-m1", "host_pnic", "eno1", "c1-host_pnics", host="compute-1"),
        obj("ens1f0-m2", "host_pnic", "ens1f0", "c1-host_pnics", host="compute-1"),
        obj("bond0-m2", "host_pnic", "bond0", "c1-host_pnics", host="compute-1", EtherChannel=True),
        obj("ens1f0-m3", "host_pnic", "ens1f0", "n1-host_pnics", host="network-1"),
        obj("vm-1", "instance", "tenant-vm-1", "c1-instances", host="compute-1", status="Error"),
        obj("vm-2", "instance", "tenant-vm-2", "c1-instances", host="compute-1"),
        obj("network-1-qdhcp-n1", "vservice", "qdhcp-net", "n1-dhcps", host="network-1"),
    ])
    calipso.inventory.upsert_links(ENV, [
        link("host_pnic-switch_pnic", "eno1-m1", PORT_1),
        link("host_pnic-switch_pnic", "ens1f0-m2", PORT_2),
        link("host_pnic-switch_pnic", "bond0-m2", PORT_2),
        link("host_pnic-switch_pnic", "ens1f0-m3", PORT_10),
    ])
    with calipso.engine.begin() as conn:
        conn.execute(insert(cliques), [
            {"environment": ENV, "focal_point": "vm-1", "focal_point_type": "instance", "clique_type": "instance",
             "nodes": ["vm-1", "bond0-m2"]},
            {"environment": ENV, "focal_point": "vm-2", "focal_point_type": "instance", "clique_type": "instance",
             "nodes": ["vm-2", "bond0-m2"]},
            {"environment": ENV, "focal_point": "network-1-qdhcp-n1", "focal_point_type": "vservice",
             "clique_type": "vservice", "nodes": ["network-1-qdhcp-n1", "ens1f0-m3"]},
            {"environment": ENV, "focal_point": LEAF, "focal_point_type": "switch", "clique_type": "switch",
             "nodes": [LEAF, PORT_1, "eno1-m1"]},
        ])
    return calipso


def test_every_leaf_port_in_order_with_what_crosses_it(stored):
    rows = aci_ports_report(stored, ENV)
    assert [(r["leaf"], r["port"], r["role"]) for r in rows] == [
        ("leaf-101", "eth1/1", "hostlink"), ("leaf-101", "eth1/2", "hostlink"), ("leaf-101", "eth1/10", "hostlink"),
        ("leaf-101", "eth1/49", "uplink")]
    management, data, network, uplink = rows
    assert (management["host"], management["host_pnic"], management["instances"]) == ("compute-1", "eno1", [])
    assert (data["host_pnic"], data["bond"], data["status"]) == ("ens1f0", "bond0", "Warning")
    assert data["instances"] == [
        {"id": "vm-1", "name": "tenant-vm-1", "host": "compute-1", "status": "Error"},
        {"id": "vm-2", "name": "tenant-vm-2", "host": "compute-1", "status": None}]
    assert [v["id"] for v in network["vservices"]] == ["network-1-qdhcp-n1"] and network["instances"] == []
    assert (uplink["peer"], uplink["host"], uplink["instances"]) == ("spine-201 eth1/1", None, [])


def test_an_unknown_environment_is_not_found(calipso):
    with pytest.raises(NotFound):
        aci_ports_report(calipso, "nowhere")


def run(app, name: str, fmt: str) -> int:
    return report_cmd.run(app, argparse.Namespace(name=name, env=ENV, format=fmt))


def test_the_command_finds_the_report_and_prints_json(stored, capsys):
    assert "aci-ports" in report_cmd.available_reports(stored.plugins)
    assert run(stored, "aci-ports", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["port_id"] for r in rows] == [PORT_1, PORT_2, PORT_10, UPLINK]


def test_csv_has_names_and_health_but_no_ids(stored, capsys):
    run(stored, "aci-ports", "csv")
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "port_id" not in table[0] and table[0]["leaf"] == "leaf-101"
    assert table[1]["instances"] == "tenant-vm-1 [Error], tenant-vm-2"
    assert table[3]["peer"] == "spine-201 eth1/1" and table[3]["host"] == ""


def test_the_table_shows_statuses_literally(stored, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    run(stored, "aci-ports", "table")
    out = capsys.readouterr().out
    assert "tenant-vm-1 [Error]" in out and "eth1/49" in out


def test_an_unknown_report_lists_the_installed_ones(stored):
    with pytest.raises(NotFound, match="aci-ports"):
        run(stored, "no-such-report", "json")
