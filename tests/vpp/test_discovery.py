"""End to end: scan a VPP lab served on loopback (real openstacksdk, paramiko,
PostgreSQL) and compare the inventory with the lab's ground truth. The OpenStack plugin
finds the hosts these hang under, so these tests need it installed."""

from __future__ import annotations

import pytest

pytest.importorskip("calipso_plugins_openstack", reason="VPP discovery hangs under the OpenStack plugin's hosts; "
                                                         "calipso-plugins-openstack is not installed")

from calipso_core.scan.controller import Scan
from calipso_core.testing import lab_differences  # noqa: E402


@pytest.mark.parametrize("types", ["vxlan", "vlan"])
def test_a_scan_finds_exactly_the_vpp_lab(calipso, lab_environment, types):
    lab = lab_environment(mechanism_driver="VPP", seed=3, hosts=5, instances=12, type_driver=types)
    summary = Scan(calipso, lab.options.env_name, concurrency=8).run()
    assert summary.status == "completed", summary.errors
    assert summary.objects["vedge"] == summary.objects["pnics_folder"] == 4 and summary.objects["instance"] == 12
    assert (summary.objects["otep"] > 0) == (types == "vxlan")
    assert summary.links["vnic-vconnector"] > summary.links["instance-vnic"] > 0
    assert summary.links["host_pnic-network"] > 0
    assert lab_differences(calipso, lab) == []
    assert summary.cliques >= 12 + summary.objects["vservice"]
