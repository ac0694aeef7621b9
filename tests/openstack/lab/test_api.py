"""The lab's Keystone, Nova and Neutron, driven by the real openstacksdk over loopback:
what the SDK lists matches the model, paging walks thousands of servers, and injected
faults reach the caller as SDK errors."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import openstack
import pytest
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as sdk_exceptions

from calipso_core.lab.generate import generate_lab
from calipso_core.lab.model import LabSpec
from calipso_plugins_openstack.api import OpenStackApi, OpenStackError
from calipso_plugins_openstack.lab.api import LabApiServer

# openstacksdk 4.22 warns about its own deprecated internals on every connect and call.
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack.*"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack.*")]


@pytest.fixture(scope="module")
def clean_env():
    """No OS_* variable may leak into connect() (OS_COMPUTE_API_VERSION would pin requests)."""
    with pytest.MonkeyPatch.context() as patch:
        import os

        for name in [n for n in os.environ if n.startswith("OS_")]:
            patch.delenv(name)
        yield


@pytest.fixture(scope="module")
def model():
    return generate_lab(LabSpec(seed=21, hosts=9, instances=70, aci=False))


@pytest.fixture(scope="module")
def api(model, clean_env):
    with LabApiServer(model) as server:
        yield server


@pytest.fixture(scope="module")
def conn(api):
    connection = openstack.connect(**api.connect_kwargs())
    yield connection
    connection.close()


def test_identity_lists_projects_and_regions(conn, model):
    projects = {p.name: p for p in conn.identity.projects()}
    assert set(projects) == {p.name for p in model.projects.values()}
    assert all(len(p.id) == 32 and p.is_enabled for p in projects.values())
    assert [r.id for r in conn.identity.regions()] == list(model.regions)


def test_all_servers_carry_host_and_libvirt_fields(conn, model, api):
    servers = {s.id: s for s in conn.compute.servers(details=True, all_projects=True)}
    assert set(servers) == set(model.instances)
    for instance in model.instances.values():
        server = servers[instance.id]
        assert server.compute_host == instance.host == server.hypervisor_hostname
        assert server.instance_name == instance.libvirt_name
        assert server.project_id == instance.project_id and server.availability_zone == instance.zone
        assert server.status == ("SHUTOFF" if instance.vm_state == "stopped" else "ACTIVE")
        assert server.flavor.name == instance.flavor
        macs = {a["OS-EXT-IPS-MAC:mac_addr"] for addrs in server.addresses.values() for a in addrs}
        assert macs == {model.ports[p].mac for p in instance.port_ids}
    listed = [r for r in api.requests if r.path.endswith("/servers/detail")]
    assert listed and listed[-1].microversion == "2.96" and listed[-1].with_token
    assert "all_tenants=True" in listed[-1].query


def test_servers_of_own_project_and_of_one_host(conn, model):
    own = {s.id for s in conn.compute.servers(details=True)}
    assert own == {i.id for i in model.instances.values() if i.project_id == model.admin_project_id}
    host = "compute-0003"
    on_host = {s.id for s in conn.compute.servers(details=True, all_projects=True, compute_host=host)}
    assert on_host == set(model.instances_by_host[host]) and on_host


def test_hypervisors_zones_aggregates_and_services(conn, model):
    computes = {h.name: h for h in model.hosts_with_role("compute")}
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert {h.name for h in hypervisors} == set(computes)
    assert all(h.service_details["host"] == h.name and h.state == "up" for h in hypervisors)
    assert {h.id for h in hypervisors} == {c.hypervisor.id for c in computes.values()}
    zones = {z.name: z for z in conn.compute.availability_zones(details=True)}
    assert set(zones) == set(model.zones) | {"internal"}
    assert set(zones["internal"].hosts) == {h.name for h in model.hosts_with_role("controller")}
    for zone in model.zones:
        assert set(zones[zone].hosts) == {h.name for h in computes.values() if h.zone == zone}
    aggregates = {a.name: a for a in conn.compute.aggregates()}
    assert {a.name: set(a.hosts) for a in model.aggregates.values()} == {n: set(a.hosts) for n, a in
                                                                          aggregates.items()}
    services = {(s.host, s.binary) for s in conn.compute.services()}
    assert services == {(s.host, s.binary) for s in model.services.values()}


def test_networks_subnets_routers_and_agents(conn, model):
    networks = {n.id: n for n in conn.network.networks()}
    assert set(networks) == set(model.networks)
    for record in model.networks.values():
        network = networks[record.id]
        assert network.project_id == record.project_id and network.provider_network_type == record.network_type
        assert network.provider_segmentation_id == record.segmentation_id
        assert network.is_shared == record.shared and network.is_router_external == record.external
        assert network.subnet_ids == list(record.subnet_ids)
    assert {s.id: s.cidr for s in conn.network.subnets()} == {s.id: s.cidr for s in model.subnets.values()}
    routers = {r.id: r for r in conn.network.routers()}
    assert set(routers) == set(model.routers)
    gateway = next(r for r in model.routers.values() if r.gateway_port_id)
    info = routers[gateway.id].external_gateway_info
    assert info["network_id"] == gateway.gateway_network_id
    assert info["external_fixed_ips"][0]["ip_address"] == model.ports[gateway.gateway_port_id].fixed_ips[0][1]
    agents = list(conn.network.agents())
    assert len(agents) == len(model.agents)
    ovs = [a for a in agents if a.agent_type == "Open vSwitch agent"]
    assert all(a.configuration["tunneling_ip"] == model.hosts[a.host].tunnel_ip for a in ovs)
    dhcp = next(a for a in agents if a.agent_type == "DHCP agent")
    assert dhcp.configuration["networks"] == sum(1 for n in model.networks.values() if n.dhcp_host == dhcp.host)


def test_ports_with_bindings_and_filters(conn, model):
    ports = {p.id: p for p in conn.network.ports()}
    assert set(ports) == set(model.ports)
    instance = next(i for i in model.instances.values() if len(i.port_ids) > 1)
    by_device = {p.id for p in conn.network.ports(device_id=instance.id)}
    assert by_device == set(instance.port_ids)
    port = ports[instance.port_ids[0]]
    assert port.binding_host_id == instance.host and port.binding_vif_type == "ovs"
    assert port.binding_vif_details["ovs_hybrid_plug"] is True and port.device_owner == f"compute:{instance.zone}"
    network_id = port.network_id
    assert {p.id for p in conn.network.ports(network_id=network_id)} == set(model.ports_by_network[network_id])
    on_host = {p.id for p in conn.network.ports(binding_host_id=instance.host)}
    assert on_host == set(model.ports_by_host[instance.host])
    dhcp = {p.id for p in conn.network.ports(device_owner="network:dhcp")}
    assert dhcp == {p.id for p in model.ports.values() if p.device_owner == "network:dhcp"} and dhcp


def test_placement_lists_compute_hosts(conn, model):
    providers = {p.name for p in conn.placement.resource_providers()}
    assert providers == {h.name for h in model.hosts_with_role("compute")}


def test_token_and_discovery_documents(api, model):
    with httpx.Client(base_url=api.base_url, timeout=10) as client:
        assert client.get("/v3").json()["version"]["id"] == "v3.14"
        assert client.get("/").status_code == 300
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "password": api.connect_kwargs()["password"], "domain": {"name": "Default"}}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        issued = client.post("/v3/auth/tokens", json=body)
        assert issued.status_code == 201 and issued.headers["x-subject-token"]
        token = issued.json()["token"]
        expires = datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
        assert expires - api.now() > timedelta(hours=1)
        assert {e["type"] for e in token["catalog"]} >= {"identity", "compute", "network"}
        assert token["project"]["id"] == model.admin_project_id
        version = client.get("/RegionOne/compute/v2.1").json()["version"]
        assert (version["version"], version["min_version"]) == ("2.96", "2.1")
        wrong = client.post("/v3/auth/tokens", json={"auth": {**body["auth"], "identity": {
            "methods": ["password"], "password": {"user": {"name": "admin", "password": "nope",
                                                           "domain": {"name": "Default"}}}}}})
        assert wrong.status_code == 401 and wrong.json()["error"]["title"] == "Unauthorized"
        assert client.get("/RegionOne/compute/v2.1/servers").status_code == 401


def test_microversions_and_error_bodies(conn, model):
    instance = next(iter(model.instances.values()))
    old = conn.compute.get(f"/servers/{instance.id}", microversion="2.1").json()["server"]
    assert set(old["flavor"]) == {"id", "links"} and "locked" not in old
    new = conn.compute.get(f"/servers/{instance.id}", microversion="2.96").json()["server"]
    assert new["flavor"]["original_name"] == instance.flavor and new["pinned_availability_zone"] is None
    hypervisors = conn.compute.get("/os-hypervisors/detail", microversion="2.1").json()["hypervisors"]
    assert isinstance(hypervisors[0]["id"], int) and isinstance(hypervisors[0]["cpu_info"], str)
    host = "compute-0002"
    expected = {(i.id, i.libvirt_name) for i in model.host_instances(host)}
    legacy = conn.compute.get(f"/os-hypervisors/{host}/servers", microversion="2.1").json()["hypervisors"]
    assert {(s["uuid"], s["name"]) for s in legacy[0]["servers"]} == expected
    current = conn.compute.get(f"/os-hypervisors/detail?with_servers=true&hypervisor_hostname_pattern={host}",
                               microversion="2.88").json()["hypervisors"]
    assert {(s["uuid"], s["name"]) for s in current[0]["servers"]} == expected and "vcpus" not in current[0]
    missing = conn.compute.get("/servers/no-such-server", microversion="2.96")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert conn.compute.get("/servers/detail", microversion="3.0").status_code == 406
    gone = conn.network.get("/networks/no-such-network")
    assert gone.status_code == 404 and gone.json()["NeutronError"]["type"] == "NetworkNotFound"
    with pytest.raises(sdk_exceptions.NotFoundException):
        conn.network.get_network("no-such-network")


@pytest.fixture
def busy_lab(clean_env):
    """A lab of 1,100 servers (more than one Nova page)."""
    model = generate_lab(LabSpec(seed=5, hosts=12, instances=1100))
    with LabApiServer(model) as server:
        yield model, server


def test_paging_across_more_than_a_thousand_servers(busy_lab):
    model, api = busy_lab
    conn = openstack.connect(**api.connect_kwargs())
    servers = [s.id for s in conn.compute.servers(details=True, all_projects=True)]
    assert len(servers) == len(set(servers)) == 1100 == len(model.instances)
    pages = [r for r in api.requests if r.path.endswith("/servers/detail")]
    assert len(pages) == 2 and "marker=" in pages[1].query
    before = len(api.requests)
    ports = [p.id for p in conn.network.ports(limit=500)]
    assert sorted(ports) == sorted(model.ports)
    port_pages = [r for r in api.requests[before:] if r.path.endswith("/ports")]
    # full pages with a next link, the last one without, then the SDK's one extra try that gets []
    assert len(port_pages) == -(-len(model.ports) // 500) + 1
    assert all("marker=" in r.query for r in port_pages[1:])
    conn.close()


def test_model_changes_show_in_the_next_listing(clean_env):
    model = generate_lab(LabSpec(seed=8, hosts=4, instances=6, mechanism_driver="LXB"))
    with LabApiServer(model) as api:
        conn = openstack.connect(**api.connect_kwargs())
        assert len(list(conn.compute.servers(details=True, all_projects=True))) == 6
        booted = model.boot_instance(name="fresh").object_id
        instance = model.instances[booted]
        network_id = model.ports[instance.port_ids[0]].network_id
        model.update_network(network_id, name="renamed-net")
        servers = {s.id: s for s in conn.compute.servers(details=True, all_projects=True)}
        assert len(servers) == 7 and servers[booted].name == "fresh"
        assert "renamed-net" in servers[booted].addresses
        port = conn.network.get_port(instance.port_ids[0])
        assert port.binding_vif_type == "bridge" and port.binding_host_id == instance.host
        model.delete_instance(booted)
        assert booted not in {s.id for s in conn.compute.servers(details=True, all_projects=True)}
        conn.close()


def test_injected_500_surfaces_as_sdk_error_and_latency_delays(api, clean_env):
    conn = openstack.connect(**api.connect_kwargs())
    list(conn.network.networks())
    api.add_fault("/RegionOne/network/v2.0/networks", status=500, times=1)
    with pytest.raises(sdk_exceptions.HttpException) as failed:
        list(conn.network.networks())
    assert failed.value.status_code == 500
    assert "internal server error" in str(failed.value)
    assert list(conn.network.networks())  # the fault was for one request only
    api.latency_ms = (60, 80)
    try:
        started = time.monotonic()
        list(conn.network.routers())
        assert time.monotonic() - started >= 0.06
    finally:
        api.latency_ms = (0, 0)
    conn.close()


def test_an_answer_that_is_not_json_is_an_error_naming_the_request(api, clean_env):
    kwargs = api.connect_kwargs()
    client = OpenStackApi({"host": "127.0.0.1", "port": api.port, "user": kwargs["username"],
                           "pwd": kwargs["password"]})
    try:
        assert client.list("network", "/networks", "networks")
        api.add_fault("/RegionOne/network/v2.0/networks", kind="garbled", times=1)
        with pytest.raises(OpenStackError, match=r"^network GET /networks answered what is not JSON: "):
            client.list("network", "/networks", "networks")
        assert client.list("network", "/networks", "networks")  # the next answer is read
    finally:
        client.close()


def test_hanging_path_times_out_the_client_and_stops_with_the_server(clean_env):
    model = generate_lab(LabSpec(seed=3, hosts=3, instances=3))
    api = LabApiServer(model).start()
    try:
        conn = openstack.connect(**api.connect_kwargs(), api_timeout=1)
        list(conn.compute.services())
        api.add_fault("/RegionOne/compute/v2.1/os-services", kind="hang", hang_s=60)
        started = time.monotonic()
        with pytest.raises(ks_exceptions.ConnectTimeout):  # keystoneauth names read timeouts so too
            list(conn.compute.services())
        assert 0.9 <= time.monotonic() - started < 30
        conn.close()
    finally:
        started = time.monotonic()
        api.stop()
    assert time.monotonic() - started < 5


def test_two_regions_have_their_own_endpoints(clean_env):
    model = generate_lab(LabSpec(seed=9, hosts=6, instances=12, regions=2))
    with LabApiServer(model) as api:
        conn = openstack.connect(**api.connect_kwargs(), region_name="RegionTwo")
        servers = {s.id for s in conn.compute.servers(details=True, all_projects=True)}
        assert servers == {i.id for i in model.instances.values() if i.region == "RegionTwo"} and servers
        networks = {n.id for n in conn.network.networks()}
        assert networks == {n.id for n in model.networks.values() if n.region == "RegionTwo"}
        assert {r.id for r in conn.identity.regions()} == {"RegionOne", "RegionTwo"}
        conn.close()
