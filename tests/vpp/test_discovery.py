"""End to end: scan a VPP lab served on loopback (real openstacksdk, paramiko,
PostgreSQL) and compare the inventory with the lab's ground truth. The OpenStack plugin
finds the hosts these hang under, so these tests need it installed."""

from __future__ import annotations

import pytest

pytest.importorskip("calipso_plugins_openstack", reason="VPP discovery hangs under the OpenStack plugin's hosts; "
                                                         "calipso-plugins-openstack is not installed")

from calipso_core.environments import validate  # noqa: E402
from calipso_core.lab.serve import Lab, LabOptions  # noqa: E402
from calipso_core.lab.truth import compare, stored_document  # noqa: E402
from calipso_core.scan.controller import Scan  # noqa: E402
from calipso_core.seed import seed_defaults  # noqa: E402


@pytest.fixture
def scanned_lab(calipso, tmp_path):
    """Start a VPP lab, add it as an environment, and give a function that scans it."""
    labs = []

    def start(**options):
        lab = Lab(LabOptions(latency_ms=(0, 0), mechanism_driver="VPP", **options), calipso.plugins,
                  tmp_path / f"lab{len(labs)}").start()
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


@pytest.mark.parametrize("types", ["vxlan", "vlan"])
def test_a_scan_finds_exactly_the_vpp_lab(calipso, scanned_lab, types):
    lab = scanned_lab(seed=3, hosts=5, instances=12, type_driver=types)
    summary = Scan(calipso, lab.options.env_name, concurrency=8).run()
    assert summary.status == "completed", summary.errors
    assert summary.objects["vedge"] == summary.objects["pnics_folder"] == 4 and summary.objects["instance"] == 12
    assert (summary.objects["otep"] > 0) == (types == "vxlan")
    assert summary.links["vnic-vconnector"] > summary.links["instance-vnic"] > 0
    assert summary.links["host_pnic-network"] > 0
    assert differences(calipso, lab) == []
    assert summary.cliques >= 12 + summary.objects["vservice"]
