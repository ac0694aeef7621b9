"""What the VPP plugin registers: fetchers for its scanner entries, scanner entries hung
by name under the OpenStack plugin's scanners, and clique types that win in VPP
environments only."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from calipso_core.plugins import get_plugin_manager
from calipso_core.scan.cliques import score, select_clique_types
from calipso_core.types import CliqueType
from calipso_plugins_vpp import cliques, fetchers, scanners


@pytest.fixture(scope="module")
def plugins():
    return get_plugin_manager()


def test_the_plugin_is_loaded_with_its_records(plugins):
    assert "vpp" in plugins.infos and not [f for f in plugins.load_failures if f.name == "vpp"]
    assert {f.name for f in fetchers.FETCHERS} <= set(plugins.records("calipso_fetchers"))
    assert "VPP" in plugins.records("calipso_config_sections")
    assert "vpp-hosts" in plugins.records("calipso_lab_services")


def test_every_fetcher_a_scanner_names_exists_and_extensions_name_openstack_scanners():
    names = {f.name for f in fetchers.FETCHERS}
    own = {s.name for s in scanners.SCANNERS}
    for scanner in scanners.SCANNERS:
        for entry in scanner.fetch_types:
            assert entry.fetcher is None or entry.fetcher in names
            assert entry.children_scanner is None or entry.children_scanner in own | {"openstack.host_pnic"}
    assert {s.extends for s in scanners.SCANNERS if s.extends} == {"openstack.host", "openstack.instance_vnics"}
    assert all(e.environment_condition == {"mechanism_drivers": ["VPP"]}
               for s in scanners.SCANNERS if s.extends for e in s.fetch_types)


def test_vpp_clique_types_outscore_generic_ones_in_vpp_environments_only():
    generic = asdict(CliqueType("instance", "instance", ("instance-vnic",)))
    types = [generic, *(asdict(t) for t in cliques.CLIQUE_TYPES)]
    vpp_env = {"name": "e", "mechanism_drivers": ["VPP"], "type_drivers": "vxlan"}
    ovs_env = {"name": "e", "mechanism_drivers": ["OVS"], "type_drivers": "vxlan"}
    assert {f: t["name"] for f, t in select_clique_types(types, vpp_env).items()} == {
        "instance": "instance_vpp", "vservice": "vservice_vpp", "network": "network_vpp"}
    assert select_clique_types(types, ovs_env)["instance"]["name"] == "instance"
    assert all(score(asdict(t), ovs_env) == 0 for t in cliques.CLIQUE_TYPES)
