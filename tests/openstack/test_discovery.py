"""End to end: scan a lab served on loopback (real openstacksdk, paramiko, PostgreSQL)
and compare the inventory with the lab's ground truth."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from calipso_core.scan.controller import Scan
from calipso_core.store.tables import cliques
from calipso_core.testing import lab_differences


@pytest.mark.parametrize(("driver", "types"), [("OVS", "vxlan"), ("LXB", "vlan"), ("OVS", "vlan"), ("LXB", "vxlan")])
def test_a_scan_finds_exactly_the_lab(calipso, lab_environment, driver, types):
    lab = lab_environment(seed=3, hosts=6, instances=14, mechanism_driver=driver, type_driver=types)
    ready = lab.model.switching_cache  # each host's view built when the lab started
    assert set(ready) == set(lab.model.hosts) and {v for v, _ in ready.values()} == {lab.model.version}
    summary = Scan(calipso, lab.options.env_name, concurrency=8).run()
    assert summary.status == "completed", summary.errors
    assert summary.objects["instance"] == 14
    assert lab_differences(calipso, lab) == []
    assert summary.cliques > 14


@pytest.mark.parametrize(("driver", "types"), [("OVS", "vxlan"), ("LXB", "vlan")])
def test_a_scan_of_fifty_hosts_finds_exactly_the_lab(calipso, lab_environment, driver, types):
    lab = lab_environment(seed=7, hosts=50, instances=500, mechanism_driver=driver, type_driver=types)
    summary = Scan(calipso, lab.options.env_name, concurrency=16).run()
    assert summary.status == "completed", summary.errors
    assert summary.objects["host"] == 50 and summary.objects["instance"] == 500
    assert lab_differences(calipso, lab) == []


def test_an_unreachable_host_completes_with_errors(calipso, lab_environment):
    lab = lab_environment(seed=4, hosts=5, instances=8)
    assert Scan(calipso, lab.options.env_name).run().status == "completed"
    compute = next(h.name for h in lab.model.hosts.values() if h.has_role("compute"))
    lab.ssh.set_fault(compute, unreachable=True)
    # renamed meanwhile: the API says so; its vNICs, read from the host, keep what they were
    instance = next(i for i in lab.model.instances.values() if i.host == compute)
    lab.model.rename_instance(instance.id, "renamed")
    summary = Scan(calipso, lab.options.env_name).run()
    assert summary.status == "completed_with_errors"
    assert summary.errors and all(compute in error for error in summary.errors)
    # what the unreachable host held is kept; everything else is as the lab says
    assert lab_differences(calipso, lab) == []


def test_an_api_failing_for_a_moment_is_asked_again(calipso, lab_environment):
    lab = lab_environment(seed=4, hosts=4, instances=6)
    api = lab.services["openstack-api"]
    api.add_fault("/RegionOne/compute/v2.1/servers/detail", status=503, times=2)
    api.add_fault("/RegionOne/network/v2.0/ports", status=502, times=1)
    summary = Scan(calipso, lab.options.env_name).run()
    assert summary.status == "completed", summary.errors
    assert lab_differences(calipso, lab) == []
    asked = Counter(request.path for request in api.requests)
    assert asked["/RegionOne/compute/v2.1/servers/detail"] == 3 and asked["/RegionOne/network/v2.0/ports"] == 2
    # an error that is no passing trouble is not asked again: the fetch fails at once
    api.add_fault("/RegionOne/network/v2.0/networks", status=500, times=1)
    summary = Scan(calipso, lab.options.env_name).run()
    assert summary.status == "completed_with_errors"
    assert any("500" in error and "/networks" in error for error in summary.errors), summary.errors
    assert Counter(request.path for request in api.requests)["/RegionOne/network/v2.0/networks"] == (
        asked["/RegionOne/network/v2.0/networks"] + 1)


def test_a_stopped_instances_bridge_is_in_its_own_networks_clique_only(calipso, lab_environment):
    """Its tap is gone, so no vNIC tells the bridge's network: the port its name carries does."""
    lab = lab_environment(seed=5, hosts=4, instances=12, mechanism_driver="OVS", type_driver="vlan")
    instance = next(iter(lab.model.instances.values()))
    lab.model.power_off_instance(instance.id)
    assert Scan(calipso, lab.options.env_name).run().status == "completed"
    assert lab_differences(calipso, lab) == []
    port = next(p for p in lab.model.ports.values() if p.device_id == instance.id)
    env = lab.options.env_name
    bridge = calipso.inventory.find(env, {"type": "vconnector", "name": f"qbr{port.id[:11]}"})[0]
    [link] = calipso.inventory.find_links(env, {"link_type": "vconnector-vedge", "source_id": bridge["id"]})
    assert link["attributes"]["network"] == port.network_id
    with calipso.engine.connect() as conn:
        holding = conn.execute(select(cliques.c.focal_point).where(
            cliques.c.environment == env, cliques.c.focal_point_type == "network",
            cliques.c.nodes.contains([bridge["id"]]))).scalars().all()
    assert holding == [port.network_id]


def test_an_ovs_oteps_tunnels_are_listed_once_on_its_vedge(calipso, lab_environment):
    """Each vEdge has a vxlan tunnel to every other host's OTEP; the OTEP has no copy."""
    lab = lab_environment(seed=6, hosts=5, instances=6, mechanism_driver="OVS", type_driver="vxlan")
    assert Scan(calipso, lab.options.env_name).run().status == "completed"
    env = lab.options.env_name
    oteps = {otep["parent_id"]: otep for otep in calipso.inventory.find(env, {"type": "otep"})}
    vedges = calipso.inventory.find(env, {"type": "vedge"})
    assert len(oteps) == len(vedges) >= 3 and not any("ports" in otep for otep in oteps.values())
    for vedge in vedges:
        remote = {port["options"]["remote_ip"] for port in vedge["tunnel_ports"].values()}
        assert remote == {o["ip_address"] for o in oteps.values()} - {oteps[vedge["id"]]["ip_address"]}


class HostsAsked:
    """The lab's SSH answers, watched: the most hosts being asked at once, and the
    hosts asked something other than ``apart_from``."""

    def __init__(self, lab, monkeypatch, apart_from: str = "\0"):
        self.most, self.apart, asking, lock = 0, set(), Counter(), threading.Lock()
        execute = lab.ssh.execute

        def counting(host, command):
            with lock:
                asking[host] += 1
                self.most = max(self.most, len(+asking))
                if apart_from not in command:
                    self.apart.add(host)
            try:
                return execute(host, command)
            finally:
                with lock:
                    asking[host] -= 1

        monkeypatch.setattr(lab.ssh, "execute", counting)


def test_a_scan_asks_no_more_hosts_at_once_than_its_concurrency(calipso, lab_environment, monkeypatch):
    """Whatever asks a host (gathering its state, a fetcher's own commands), and in every
    zone at once: the bound holds for the hosts being asked."""
    lab = lab_environment(seed=6, hosts=8, instances=8, latency_ms=(20, 20))
    assert len({host.zone for host in lab.model.hosts.values()}) >= 2
    asked = HostsAsked(lab, monkeypatch)
    assert Scan(calipso, lab.options.env_name, concurrency=2).run().status == "completed"
    assert asked.most == 2


def test_the_bound_holds_when_hosts_fail_their_gathering(calipso, lab_environment, monkeypatch):
    """A host whose state cannot be gathered still gets its fetchers' own commands (run
    apart, by the fetchers' pool): they count against the same bound."""
    lab = lab_environment(seed=6, hosts=8, instances=8, latency_ms=(20, 20))
    for host in lab.model.hosts:
        lab.ssh.set_fault(host, garbage_pattern="ip netns list")  # the gathering's first round trip
    asked = HostsAsked(lab, monkeypatch, apart_from="ip netns list")
    summary = Scan(calipso, lab.options.env_name, concurrency=2).run()
    assert summary.status == "completed_with_errors"
    assert len(summary.errors) >= len(lab.model.hosts)
    switching = {h.name for h in lab.model.hosts.values() if not h.has_role("controller")}
    assert asked.apart >= switching  # every host with a switch got its fetchers' own commands
    assert asked.most == 2
