"""Generating a lab model from a ``LabSpec``: the same spec always gives the same model.

The cloud is built through the model's own mutations (create network, boot instance …),
so a generated model and a churned one obey the same rules. While generating, the model
reads a stepping clock starting at ``EPOCH``; afterwards it reads the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from calipso_core.lab.aci import build_fabric
from calipso_core.lab.hosts import add_region_hosts
from calipso_core.lab.ids import EPOCH, utc_now
from calipso_core.lab.model import DEFAULT_INSTANCES_PER_COMPUTE, LabModel, LabSpec
from calipso_core.lab.records import Flavor, Image, Network, Project, Region, User

REGION_NAMES = ("RegionOne", "RegionTwo")
FLAVORS = (("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20), ("m1.medium", 2, 4096, 40),
           ("m1.large", 4, 8192, 80), ("m1.xlarge", 8, 16384, 160))
IMAGES = ("cirros-0.6.2-x86_64-disk", "ubuntu-22.04-server-cloudimg-amd64", "centos-stream-9-genericcloud")


class SteppingClock:
    """A clock that advances one second per reading: deterministic times for generation."""

    def __init__(self, start: datetime):
        self.moment = start

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


def generate_lab(spec: LabSpec, clock: Callable[[], datetime] = utc_now) -> LabModel:
    """A model of the data centre ``spec`` describes; ``clock`` is what mutations read
    afterwards (the real time by default)."""
    model = LabModel(spec, clock=SteppingClock(EPOCH))
    add_identity(model)
    add_catalogue(model)
    for index, count in enumerate(split(spec.hosts, spec.regions)):
        region = REGION_NAMES[index]
        model.regions[region] = Region(region, f"Lab region {index + 1}")
        add_region_hosts(model, region, index, count)
    for region in model.regions:
        add_region_networks(model, region)
    add_instances(model)
    if spec.aci:
        model.aci = build_fabric(model)
    model.clock = clock
    model.version = 0
    return model


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` nearly equal shares, larger ones first."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def tenant_count(spec: LabSpec) -> int:
    instances = spec.instances if spec.instances is not None else spec.hosts * DEFAULT_INSTANCES_PER_COMPUTE
    return max(3, min(60, instances // 300))


def add_identity(model: LabModel) -> None:
    ids = model.ids
    admin = Project(ids.hex32(), "admin", "Bootstrap project for initializing the cloud.")
    service = Project(ids.hex32(), "service", "Service project for the cloud's own services.")
    tenants = [Project(ids.hex32(), f"tenant-{i + 1:02d}", f"Tenant number {i + 1}")
               for i in range(tenant_count(model.spec))]
    for project in (admin, service, *tenants):
        model.projects[project.id] = project
    for name in ("admin", "nova", "neutron", "placement"):
        user = User(ids.hex32(), name)
        model.users[user.id] = user
    model.admin_project_id = admin.id
    model.admin_user_id = next(iter(model.users))


def add_catalogue(model: LabModel) -> None:
    for number, (name, vcpus, ram, disk) in enumerate(FLAVORS, start=1):
        model.flavors[name] = Flavor(str(number), name, vcpus, ram, disk)
    for name in IMAGES:
        image = Image(model.ids.uuid(), name)
        model.images[image.id] = image


def add_region_networks(model: LabModel, region: str) -> None:
    """The external and shared networks, then each tenant's networks behind its router."""
    admin = model.admin_project_id
    public = _network(model, admin, "public", region, external=True, dhcp=False)
    shared = _network(model, admin, "shared", region, shared=True)
    if not model.hosts_with_role("network", region):
        return
    _router(model, admin, "admin-router", region, [shared], public)
    for index, project in enumerate(p for p in model.projects.values() if p.name.startswith("tenant-")):
        nets = [_network(model, project.id, f"{project.name}-net-{n + 1}", region) for n in range(1 + index % 3)]
        _router(model, project.id, f"{project.name}-router", region, nets, public)


def _network(model: LabModel, project_id: str, name: str, region: str, shared: bool = False,
             external: bool = False, dhcp: bool = True) -> Network:
    network_id = model.create_network(project_id, name=name, region=region, shared=shared,
                                      external=external).object_id
    model.create_subnet(network_id, name=f"{name}-subnet", enable_dhcp=dhcp)
    return model.networks[network_id]


def _router(model: LabModel, project_id: str, name: str, region: str, networks: list[Network],
            external: Network) -> None:
    router_id = model.create_router(project_id, name=name, region=region, external_gateway=True).object_id
    for network in networks:
        model.add_router_interface(router_id, network.subnet_ids[0])


def add_instances(model: LabModel) -> None:
    """Spread the instances evenly over the compute hosts (round robin), each on one of
    its project's networks; one in ten also on the shared network, one in twenty stopped."""
    computes = model.hosts_with_role("compute")
    total = model.spec.instances if model.spec.instances is not None else len(computes) * DEFAULT_INSTANCES_PER_COMPUTE
    rng = model.ids.rng
    tenants = [p for p in model.projects.values() if p.name.startswith("tenant-")]
    owned: dict[tuple[str, str], list[str]] = {}
    shared: dict[str, str] = {}
    for network in model.networks.values():
        if network.shared:
            shared[network.region] = network.id
        elif not network.external:
            owned.setdefault((network.project_id, network.region), []).append(network.id)
    for i in range(total):
        host = computes[i % len(computes)]
        project = model.projects[model.admin_project_id] if i % 50 == 49 else tenants[rng.randrange(len(tenants))]
        choices = owned.get((project.id, host.region), [])
        nets = [choices[rng.randrange(len(choices))]] if choices else [shared[host.region]]
        if choices and i % 10 == 9:
            nets.append(shared[host.region])
        instance_id = model.boot_instance(project.id, host.name, nets).object_id
        if i % 20 == 19:
            model.power_off_instance(instance_id)
