"""End to end: scan a lab served on loopback (real openstacksdk, paramiko, PostgreSQL)
and compare the inventory with the lab's ground truth."""

from __future__ import annotations

import pytest

from calipso_core.environments import validate
from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.lab.truth import compare, stored_document
from calipso_core.scan.controller import Scan
from calipso_core.seed import seed_defaults


@pytest.fixture
def scanned_lab(calipso, tmp_path):
    """Start a lab, add it as an environment, and give a function that scans it."""
    labs = []

    def start(**options):
        lab = Lab(LabOptions(latency_ms=(0, 0), **options), calipso.plugins, tmp_path / f"lab{len(labs)}").start()
        labs.append(lab)
        doc = lab.environment()
        validate(doc, calipso.config_sections)
        calipso.environments.save(doc)
        seed_defaults(calipso.engine, calipso.plugins)
        return lab

    yield start
    for lab in labs:
        lab.stop()


def differences(calipso, lab) -> list[dict]:
    types = list(calipso.plugins.records("calipso_clique_types").values())
    expected = lab.truth().as_document(lab.environment(), types)
    result = compare(expected, stored_document(calipso.inventory, calipso.engine, lab.options.env_name))
    return [row for row in result.rows if row["missing"] or row["unexpected"]]


@pytest.mark.parametrize(("driver", "types"), [("OVS", "vxlan"), ("LXB", "vlan"), ("OVS", "vlan"), ("LXB", "vxlan")])
def test_a_scan_finds_exactly_the_lab(calipso, scanned_lab, driver, types):
    lab = scanned_lab(seed=3, hosts=6, instances=14, mechanism_driver=driver, type_driver=types)
    summary = Scan(calipso, lab.options.env_name, concurrency=8).run()
    assert summary.status == "completed", summary.errors
    assert summary.objects["instance"] == 14
    assert differences(calipso, lab) == []
    assert summary.cliques > 14


def test_an_unreachable_host_completes_with_errors(calipso, scanned_lab):
    lab = scanned_lab(seed=4, hosts=5, instances=8)
    assert Scan(calipso, lab.options.env_name).run().status == "completed"
    compute = next(h.name for h in lab.model.hosts.values() if h.has_role("compute"))
    lab.ssh.set_fault(compute, unreachable=True)
    summary = Scan(calipso, lab.options.env_name).run()
    assert summary.status == "completed_with_errors"
    assert summary.errors and all(compute in error for error in summary.errors)
    # what the unreachable host held is kept; everything else is as the lab says
    assert differences(calipso, lab) == []
