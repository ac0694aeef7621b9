"""The lab's topology model: deterministic generation, exact counts, the invariants a real
data centre keeps (bindings, names, tunnels, cabling), and mutations that keep them."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter

import pytest

from calipso_core.errors import ConfigError
from calipso_core.lab.bench import measure_generation
from calipso_core.lab.churn import random_change
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.ids import LabError
from calipso_core.lab.model import DEFAULT_INSTANCES_PER_COMPUTE, LabModel, LabSpec
from calipso_core.lab.records import Port, as_dict
from calipso_core.lab.switching import host_switching
from calipso_core.lab.switching_ovs import tunnel_port_name

DRIVERS = [(md, td) for md in ("OVS", "LXB", "VPP") for td in ("vxlan", "vlan")]
COLLECTIONS = ("regions", "projects", "zones", "aggregates", "hosts", "agents", "services", "networks", "subnets",
               "ports", "routers", "instances")


def snapshot(model: LabModel) -> dict:
    data = {name: [as_dict(r) for r in getattr(model, name).values()] for name in COLLECTIONS}
    data["aci"] = model.aci
    data["switching"] = [host_switching(model, h) for h in model.hosts]
    return data


# --- invariants ---------------------------------------------------------------------------------


def check_invariants(model: LabModel) -> None:
    check_bindings(model)
    check_addresses(model)
    check_indexes(model)
    check_namespaces(model)
    views = {h: host_switching(model, h) for h in model.hosts}
    checker = {"OVS": check_ovs, "LXB": check_lxb, "VPP": check_vpp}[model.spec.mechanism_driver]
    for instance in model.instances.values():
        for port_id in instance.port_ids:
            checker(model, views[instance.host], model.ports[port_id], instance.vm_state != "stopped")
    if model.spec.type_driver == "vxlan" and model.spec.mechanism_driver == "OVS":
        check_ovs_tunnels(model, views)
    if model.aci is not None:
        check_cabling(model)


def check_bindings(model: LabModel) -> None:
    for instance in model.instances.values():
        assert instance.port_ids, instance
        for port_id in instance.port_ids:
            port = model.ports[port_id]
            assert port.host == instance.host
            assert port.device_id == instance.id
            assert port.device_owner == f"compute:{instance.zone}"
            assert model.networks[port.network_id].region == instance.region
    for port in model.ports.values():
        if port.device_owner.startswith("compute:"):
            assert port.id in model.instances[port.device_id].port_ids


def check_addresses(model: LabModel) -> None:
    macs = Counter(p.mac for p in model.ports.values())
    assert not [m for m, n in macs.items() if n > 1]
    assert all(m.startswith("fa:16:3e:") for m in macs)
    nic_macs = Counter(n.mac for h in model.hosts.values() for n in h.physical_nics)
    assert not [m for m, n in nic_macs.items() if n > 1]
    seen = set()
    for port in model.ports.values():
        for subnet_id, address in port.fixed_ips:
            subnet = model.subnets[subnet_id]
            assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network(subnet.cidr)
            assert (subnet_id, address) not in seen
            seen.add((subnet_id, address))


def check_indexes(model: LabModel) -> None:
    by_host: dict[str, set[str]] = {}
    for port in model.ports.values():
        if port.host:
            by_host.setdefault(port.host, set()).add(port.id)
    assert {h: set(p) for h, p in model.ports_by_host.items()} == by_host
    for host, state in model.host_state.items():
        networks = {model.ports[p].network_id for p in model.ports_by_host.get(host, ())}
        assert set(state.local_ids) == networks
        assert len(set(state.local_ids.values())) == len(state.local_ids)


def check_namespaces(model: LabModel) -> None:
    for host in model.hosts_with_role("network"):
        prefix = "tap" if model.spec.mechanism_driver == "OVS" else "ns-"
        spaces = {ns.name: ns for ns in host_switching(model, host.name).namespaces}
        for network in model.networks.values():
            dhcp = [p for p in model.network_ports(network.id) if p.device_owner == "network:dhcp"]
            if network.dhcp_host == host.name and dhcp:
                names = {i.name for i in spaces[f"qdhcp-{network.id}"].interfaces}
                assert names == {prefix + dhcp[0].id[:11]}
        for router in model.routers_on(host.name):
            names = {i.name for i in spaces[f"qrouter-{router.id}"].interfaces}
            expected = {"qr-" + p[:11] for p in router.interface_port_ids}
            if router.gateway_port_id:
                expected.add("qg-" + router.gateway_port_id[:11])
            assert names == expected


def check_ovs(model: LabModel, view, port: Port, running: bool) -> None:
    short = port.id[:11]
    br_int = next(b for b in view.ovs_bridges if b.name == "br-int")
    qvo = next(p for p in br_int.ports if p.name == f"qvo{short}")
    assert qvo.tag == model.host_state[view.host.name].local_ids[port.network_id]
    qbr = next(b for b in view.linux_bridges if b.name == f"qbr{short}")
    members = {m.name for m in qbr.interfaces}
    assert members == ({f"qvb{short}", f"tap{short}"} if running else {f"qvb{short}"})
    devices = {d.name: d for d in view.devices}
    assert devices[f"qvo{short}"].peer == f"qvb{short}"
    assert (f"tap{short}" in devices) == running
    guest = next(g for g in view.guests if g.instance_id == port.device_id)
    assert any(v.target_dev == f"tap{short}" and v.source == f"qbr{short}" for v in guest.vifs)


def check_lxb(model: LabModel, view, port: Port, running: bool) -> None:
    network = model.networks[port.network_id]
    brq = next(b for b in view.linux_bridges if b.name == f"brq{network.id[:11]}")
    members = {m.name for m in brq.interfaces}
    assert (f"tap{port.id[:11]}" in members) == running
    uplink = f"vxlan-{network.segmentation_id}" if network.network_type == "vxlan" \
        else f"{view.host.data_nic}.{network.segmentation_id}"
    assert uplink in members


def check_vpp(model: LabModel, view, port: Port, running: bool) -> None:
    number = model.host_state[view.host.name].if_numbers[port.id]
    name = f"VirtualEthernet0/0/{number}"
    interface = next(i for i in view.vpp.interfaces if i.name == name)
    assert interface.port_id == port.id and interface.state == ("up" if running else "down")
    domain = next(d for d in view.vpp.bridge_domains if d.network_id == port.network_id)
    assert name in domain.members
    assert not any(d.name in (view.host.data_nic,) for d in view.devices)  # VPP owns the data NIC


def check_ovs_tunnels(model: LabModel, views) -> None:
    for view in views.values():
        if not view.host.tunnel_ip:
            continue
        br_tun = next(b for b in view.ovs_bridges if b.name == "br-tun")
        remotes = {dict(p.options)["remote_ip"]: p.name for p in br_tun.ports if p.interface_type == "vxlan"}
        others = {h.tunnel_ip for h in model.tunnel_hosts(view.host.region) if h.name != view.host.name}
        assert set(remotes) == others
        assert all(remotes[ip] == tunnel_port_name(ip) for ip in others)


def check_cabling(model: LabModel) -> None:
    fabric = model.aci
    cabled = Counter((link.host, link.pnic) for link in fabric.host_links)
    expected = {(h.name, n.name) for h in model.hosts.values() for n in h.physical_nics}
    assert set(cabled) == expected and max(cabled.values()) == 1
    leaf_ports = Counter((link.leaf_id, link.port) for link in fabric.host_links)
    assert max(leaf_ports.values()) == 1
    leaves = {s.node_id for s in fabric.leaves}
    assert {link.leaf_id for link in fabric.host_links} <= leaves
    assert len(fabric.spines) == 2 and len(leaves) % 2 == 0
    pairs = {(f.leaf_id, f.spine_id) for f in fabric.fabric_links}
    assert pairs == {(leaf, s.node_id) for leaf in leaves for s in fabric.spines}
    assert len({s.serial for s in fabric.switches}) == len(fabric.switches)


# --- tests --------------------------------------------------------------------------------------


def test_same_seed_same_model_and_other_seed_other_model():
    spec = LabSpec(seed=7, hosts=6, instances=30, aci=True)
    first, again = generate_lab(spec), generate_lab(spec)
    assert snapshot(first) == snapshot(again)
    other = generate_lab(LabSpec(seed=8, hosts=6, instances=30, aci=True))
    assert snapshot(other) != snapshot(first)
    assert {p.mac for p in other.ports.values()} != {p.mac for p in first.ports.values()}


@pytest.mark.parametrize(("hosts", "instances", "regions"), [(1, 5, 1), (2, None, 1), (2, 7, 2), (5, 0, 1),
                                                              (25, 300, 1), (41, 123, 2)])
def test_counts_are_exactly_what_was_asked(hosts, instances, regions):
    model = generate_lab(LabSpec(seed=3, hosts=hosts, instances=instances, regions=regions))
    assert len(model.hosts) == hosts
    computes = model.hosts_with_role("compute")
    expected = instances if instances is not None else len(computes) * DEFAULT_INSTANCES_PER_COMPUTE
    assert len(model.instances) == expected
    assert len(model.regions) == regions
    assert {h.region for h in model.hosts.values()} == set(model.regions)
    for region in model.regions:
        assert model.hosts_with_role("controller", region) and model.hosts_with_role("network", region)
    assert {p.name for p in model.projects.values()} >= {"admin", "service", "tenant-01", "tenant-03"}


def test_hosts_services_and_agents_follow_roles():
    model = generate_lab(LabSpec(seed=1, hosts=30, instances=60))
    services = Counter((s.host, s.binary) for s in model.services.values())
    agents = Counter((a.host, a.agent_type) for a in model.agents.values())
    for host in model.hosts.values():
        assert ((host.name, "nova-compute") in services) == ("compute" in host.roles)
        assert ((host.name, "nova-conductor") in services) == ("controller" in host.roles)
        assert ((host.name, "L3 agent") in agents) == ("network" in host.roles)
        assert ((host.name, "Open vSwitch agent") in agents) == ("controller" not in host.roles)
        assert (host.hypervisor is not None) == ("compute" in host.roles)
    ovs = next(a for a in model.agents.values() if a.agent_type == "Open vSwitch agent")
    config = model.agent_configurations(ovs)
    assert config["tunneling_ip"] == model.hosts[ovs.host].tunnel_ip and config["tunnel_types"] == ["vxlan"]
    assert config["devices"] == len(model.ports_by_host.get(ovs.host, ()))
    assert any(any(n.kind == "bond" for n in h.pnics) for h in model.hosts.values())
    zoned = [a for a in model.aggregates.values() if a.availability_zone]
    assert {h for a in zoned for h in a.hosts} == {h.name for h in model.hosts_with_role("compute")}


@pytest.mark.parametrize(("mechanism_driver", "type_driver"), DRIVERS)
def test_generated_model_keeps_invariants(mechanism_driver, type_driver):
    model = generate_lab(LabSpec(seed=11, hosts=24, instances=90, mechanism_driver=mechanism_driver,
                                 type_driver=type_driver, aci=True))
    check_invariants(model)
    assert any(i.vm_state == "stopped" for i in model.instances.values())
    types = {n.network_type for n in model.networks.values() if not n.external}
    assert types == {type_driver}
    assert any(n.shared for n in model.networks.values()) and any(n.external for n in model.networks.values())


@pytest.mark.parametrize(("mechanism_driver", "type_driver"), DRIVERS)
def test_random_mutations_keep_invariants(mechanism_driver, type_driver):
    model = generate_lab(LabSpec(seed=5, hosts=8, instances=30, mechanism_driver=mechanism_driver,
                                 type_driver=type_driver, regions=2, aci=True))
    rng = random.Random(99)
    kinds = Counter()
    for _ in range(250):
        change = random_change(model, rng)
        kinds.update(c.kind for c in change.all())
    check_invariants(model)
    assert model.version >= 250  # one per mutation; a new network comes with its subnet
    assert {"instance.create", "instance.delete", "port.create", "port.delete", "network.create"} <= set(kinds)


def test_random_mutations_can_be_limited_to_some_collections():
    model = generate_lab(LabSpec(seed=5, hosts=6, instances=20))
    rng = random.Random(7)
    kinds = Counter(random_change(model, rng, only={"port"}).kind for _ in range(40))
    assert set(kinds) <= {"port.create", "port.update", "port.delete"} and len(kinds) >= 2
    check_invariants(model)
    with pytest.raises(LabError, match="no mutation changes disk, volume: the lab changes instance, network"):
        random_change(model, rng, only={"port", "volume", "disk"})


def test_boot_and_delete_instance_report_ports_in_order():
    model = generate_lab(LabSpec(seed=2, hosts=4, instances=4))
    network = next(n for n in model.networks.values() if n.shared)
    tenant = next(p for p in model.projects.values() if p.name == "tenant-01")
    own = next(n for n in model.networks.values() if n.project_id == tenant.id)
    change = model.boot_instance(tenant.id, "compute-0001", [own.id, network.id], name="web-1")
    assert [c.kind for c in change.all()] == ["port.create", "port.create", "instance.create"]
    instance = model.instances[change.object_id]
    assert instance.name == "web-1" and instance.libvirt_name == f"instance-{instance.number:08x}"
    ports = [model.ports[p] for p in instance.port_ids]
    assert [p.network_id for p in ports] == [own.id, network.id]
    assert all(p.host == "compute-0001" and p.vif_type == "ovs" for p in ports)
    assert Port(**change.preceded_by[0].after) == ports[0]
    deletion = model.delete_instance(instance.id)
    assert [c.kind for c in deletion.all()] == ["instance.delete", "port.delete", "port.delete"]
    assert all(p.id not in model.ports for p in ports)
    assert deletion.before["name"] == "web-1" and deletion.after is None
    check_invariants(model)


def test_power_off_removes_the_tap_and_power_on_brings_it_back():
    model = generate_lab(LabSpec(seed=2, hosts=3, instances=3))
    instance = next(i for i in model.instances.values() if i.vm_state == "active")
    tap = "tap" + instance.port_ids[0][:11]
    change = model.power_off_instance(instance.id)
    assert change.kind == "instance.power_off" and change.after["power_state"] == 4
    assert change.followed_by[0].after["status"] == "DOWN"
    assert tap not in {d.name for d in host_switching(model, instance.host).devices}
    with pytest.raises(LabError) as refused:
        model.power_off_instance(instance.id)
    assert refused.value.status == 409
    model.power_on_instance(instance.id)
    assert tap in {d.name for d in host_switching(model, instance.host).devices}


def test_network_lifecycle_creates_and_removes_dhcp_namespace():
    model = generate_lab(LabSpec(seed=4, hosts=5, instances=5))
    tenant = next(p for p in model.projects.values() if p.name == "tenant-02")
    network_id = model.create_network(tenant.id, name="blue").object_id
    subnet = model.create_subnet(network_id, name="blue-subnet")
    dhcp = next(c for c in subnet.all() if c.kind == "port.create")
    host = model.networks[network_id].dhcp_host
    assert dhcp.after["device_owner"] == "network:dhcp" and dhcp.after["host"] == host
    assert f"qdhcp-{network_id}" in {ns.name for ns in host_switching(model, host).namespaces}
    router = next(r for r in model.routers.values() if r.project_id == tenant.id)
    attach = model.add_router_interface(router.id, subnet.object_id)
    assert attach.kind == "router.interface.create"
    gateway = model.subnets[subnet.object_id].gateway_ip
    assert attach.preceded_by[0].after["fixed_ips"] == ((subnet.object_id, gateway),)
    with pytest.raises(LabError) as in_use:
        model.delete_network(network_id)
    assert in_use.value.status == 409 and in_use.value.error_type == "NetworkInUse"
    with pytest.raises(LabError):
        model.delete_port(attach.preceded_by[0].object_id)
    model.remove_router_interface(router.id, subnet.object_id)
    deletion = model.delete_network(network_id)
    assert [c.kind for c in deletion.all()] == ["port.delete", "subnet.delete", "network.delete"]
    assert f"qdhcp-{network_id}" not in {ns.name for ns in host_switching(model, host).namespaces}
    check_invariants(model)


def test_renaming_a_network_marks_its_instances_changed():
    model = generate_lab(LabSpec(seed=4, hosts=3, instances=6))
    instance = next(iter(model.instances.values()))
    network_id = model.ports[instance.port_ids[0]].network_id
    revision = instance.revision
    change = model.update_network(network_id, name="renamed")
    assert change.before["name"] != "renamed" and change.after["name"] == "renamed"
    assert model.instances[instance.id].revision > revision


def test_unknown_objects_and_bad_specs_are_refused():
    model = generate_lab(LabSpec(seed=1, hosts=2, instances=1))
    with pytest.raises(LabError) as missing:
        model.delete_instance("no-such-instance")
    assert missing.value.status == 404 and "Instance no-such-instance could not be found" in str(missing.value)
    with pytest.raises(ConfigError) as bad:
        generate_lab(LabSpec(hosts=1, regions=2, mechanism_driver="Arista"))
    assert "mechanism_driver" in str(bad.value) and "regions" not in str(bad.value).split("\n")[0]


@pytest.mark.slow
def test_thousand_hosts_generate_fast_and_small():
    result = measure_generation(hosts=1000, instances=20000, aci=True)
    assert result["counts"]["hosts"] == 1000 and result["counts"]["instances"] == 20000
    assert result["seconds"] < 30
    assert result["rss_after_mb"] - result["rss_before_mb"] < 2048
