"""The VPP fetchers against lab hosts served over SSH (real paramiko, no OpenStack): what
they find matches the lab model, and each host is asked once, in one batch."""

from __future__ import annotations

import threading

import pytest

from calipso_core.errors import CommandFailed
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.linux_host import host_shell
from calipso_core.lab.model import LabSpec
from calipso_core.lab.ssh import LabSshServer
from calipso_core.lab.switching import host_switching
from calipso_core.scan.context import ScanContext
from calipso_plugins_vpp.fetchers import (
    fetch_host_pnics,
    fetch_instance_vnics,
    fetch_oteps,
    fetch_vconnectors,
    fetch_vedges,
)
from calipso_plugins_vpp.lab.vpp_host import vpp_commands


class Served:
    """Lab hosts with the Linux and vppctl commands, counting the command lines they get."""

    def __init__(self, model, key_dir):
        self.model, self.lines, self._lock = model, [], threading.Lock()
        shells = {h: host_shell(model, h, [vpp_commands(model, h)]) for h in model.hosts}
        self.server = LabSshServer({h: self._counting(h, s) for h, s in shells.items()}, "calipso", "lab-secret",
                                   key_dir=key_dir)

    def _counting(self, host, shell):
        def answer(command_line):
            with self._lock:
                self.lines.append((host, command_line))
            return shell(command_line)
        return answer


@pytest.fixture(scope="module", params=["vxlan", "vlan"])
def served(request, tmp_path_factory):
    model = generate_lab(LabSpec(seed=11, hosts=4, instances=6, mechanism_driver="VPP", type_driver=request.param))
    lab = Served(model, tmp_path_factory.mktemp("keys"))
    lab.server.start()
    yield lab
    lab.server.stop()


@pytest.fixture
def ctx(served, tmp_path):
    """A scan context over the lab hosts; host types as the OpenStack host fetcher sets them."""
    cli = {"name": "CLI", **served.server.client_config(), "known_hosts": str(tmp_path / "known_hosts")}
    context = ScanContext({"name": "vpp-lab", "mechanism_drivers": ["VPP"], "configuration": [cli]}, None)
    for host in served.model.hosts.values():
        types = [t for role, t in (("compute", "Compute"), ("network", "Network")) if host.has_role(role)]
        context.cached(("host_type", host.name), lambda types=types: types)
    served.lines.clear()
    yield context
    context.close()


def folder(host: str, parent: str = "") -> dict:
    return {"host": host, "parent_id": parent or host}


def test_vedge_vconnectors_and_pnics_of_a_network_node(served, ctx):
    host = next(h.name for h in served.model.hosts.values() if h.has_role("network"))
    view = host_switching(served.model, host)
    (vedge,) = fetch_vedges(ctx, folder(host))
    assert (vedge["id"], vedge["name"], vedge["binary"]) == (f"{host}-VPP", f"VPP-{host}", "vpp v23.10-release")
    assert set(vedge["ports"]) == {i.name for i in view.vpp.interfaces}
    vconnectors = fetch_vconnectors(ctx, folder(host))
    assert {v["id"]: v["interfaces_names"] for v in vconnectors} == {
        f"{host}-vconnector-{bd.bd_id}": list(bd.members) for bd in view.vpp.bridge_domains}
    taps = [m for v in vconnectors for m in v["interfaces"].values() if m["name"].startswith("tap")]
    namespaces = {i.name: i.mac for ns in view.namespaces for i in ns.interfaces}
    assert taps and all(namespaces[m["host_if_name"]] == m["host_mac_address"] for m in taps)
    pnics = fetch_host_pnics(ctx, folder(host, vedge["id"]))
    nics = {p.name: p for p in view.host.pnics}
    assert sorted(p["mac_address"] for p in pnics) == sorted(nics[n].mac for n in (view.host.data_nic,
                                                                                   view.host.external_nic))
    assert {p["IP Address"] for p in pnics} == {view.host.tunnel_ip, None}
    oteps = fetch_oteps(ctx, {"host": host, "id": vedge["id"]})
    if view.vpp.tunnels:
        (otep,) = oteps
        assert otep["ip_address"] == view.host.tunnel_ip and set(otep["ports"]) == {t.name for t in view.vpp.tunnels}
        assert otep["interface"] in {p["name"] for p in pnics if p["IP Address"]}
    else:
        assert oteps == []
    assert [line for h, line in served.lines if "vppctl" in line and h == host] == [served.lines[-1][1]]


def test_instance_vnics_are_the_vhost_user_interfaces(served, ctx):
    model = served.model
    instance = next(i for i in model.instances.values() if i.vm_state != "stopped")
    vnics = fetch_instance_vnics(ctx, folder(instance.host, instance.id))
    view = host_switching(model, instance.host)
    by_port = {i.port_id: i.name for i in view.vpp.interfaces if i.port_id}
    assert [(v["id"], v["vpp_interface"], v["state"]) for v in vnics] == [
        (f"{instance.host}-instance-{instance.number:08x}-vhostuser-{model.ports[p].mac}", by_port[p], "up")
        for p in instance.port_ids]
    assert all(v["vnic_type"] == "instance_vnic" and v["source_socket"] for v in vnics)
    stopped = next((i for i in model.instances.values() if i.vm_state == "stopped"), None)
    if stopped is not None:
        assert fetch_instance_vnics(ctx, folder(stopped.host, stopped.id)) == []


def test_a_host_without_vpp_is_not_asked_and_a_failing_vppctl_names_the_host(served, ctx):
    controller = next(h.name for h in served.model.hosts.values() if h.roles == ("controller",))
    assert fetch_vedges(ctx, folder(controller)) == [] and fetch_vconnectors(ctx, folder(controller)) == []
    assert served.lines == []
    with pytest.raises(CommandFailed) as caught:  # the pNICs hang under a vEdge: asked only where one was found
        fetch_host_pnics(ctx, folder(controller))
    assert controller in str(caught.value) and caught.value.exit_status == 127
