"""The lab's topology model: one simulated data centre held in memory.

``generate_lab(LabSpec(...))`` (in ``calipso_core.lab.generate``) builds a model from a
seed; the same spec always gives the same model. The model holds the cloud's objects
(``calipso_core.lab.records``), indexes over them, and the per-host allocations that real
switching software keeps (OVS local VLAN tags, VPP interface numbers). Everything a host
shows (bridges, namespaces, tunnels) is derived from that by
``calipso_core.lab.switching.host_switching``.

Mutations (boot, delete, rename … an instance; create, update, delete a network, subnet,
port or router) are methods of ``LabModel``; each takes ``model.lock``, updates every
affected object and index, and returns a ``Change``. Readers that need a consistent view
across several objects hold ``model.lock`` too.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calipso_core.errors import ConfigError
from calipso_core.lab.ids import IdMaker, IpPool, LabError, SmallIdPool, iso, utc_now
from calipso_core.lab.mutations_compute import ComputeMutations
from calipso_core.lab.mutations_network import NetworkMutations
from calipso_core.lab.mutations_router import RouterMutations
from calipso_core.lab.records import (
    AciFabric,
    Agent,
    Aggregate,
    AvailabilityZone,
    Flavor,
    Host,
    Image,
    Instance,
    Network,
    NovaService,
    Port,
    Project,
    Region,
    Router,
    Subnet,
    User,
)

MECHANISM_DRIVERS = ("OVS", "LXB", "VPP")
TYPE_DRIVERS = ("vxlan", "vlan")
#: Instances per compute host when the spec does not say how many.
DEFAULT_INSTANCES_PER_COMPUTE = 4


@dataclass(frozen=True)
class LabSpec:
    """What to generate. ``hosts`` and ``instances`` are exact totals over all regions;
    without ``instances`` every compute host gets ``DEFAULT_INSTANCES_PER_COMPUTE``."""

    seed: int = 1
    hosts: int = 3
    instances: int | None = None
    mechanism_driver: str = "OVS"
    type_driver: str = "vxlan"
    aci: bool = False
    regions: int = 1

    def validate(self) -> None:
        problems = []
        if self.mechanism_driver not in MECHANISM_DRIVERS:
            problems.append(f"mechanism_driver: {self.mechanism_driver!r} is not one of {MECHANISM_DRIVERS}")
        if self.type_driver not in TYPE_DRIVERS:
            problems.append(f"type_driver: {self.type_driver!r} is not one of {TYPE_DRIVERS}")
        if self.regions not in (1, 2):
            problems.append(f"regions: {self.regions} is not 1 or 2")
        if self.hosts < self.regions:
            problems.append(f"hosts: {self.hosts} is fewer than one per region ({self.regions})")
        if self.instances is not None and self.instances < 0:
            problems.append(f"instances: {self.instances} is negative")
        if problems:
            raise ConfigError("invalid lab spec", problems)


@dataclass(slots=True)
class HostState:
    """What the switching software of one host has allocated, kept stable across changes.

    ``local_ids``: network id → OVS local VLAN tag (or VPP bridge-domain id) on this host,
    held while the host has a port on the network. ``if_numbers``: port id → VPP interface
    instance number (``VirtualEthernet0/0/<n>`` or ``tap<n>``).
    """

    net_ports: dict[str, int] = field(default_factory=dict)
    local_ids: dict[str, int] = field(default_factory=dict)
    if_numbers: dict[str, int] = field(default_factory=dict)
    local_id_pool: SmallIdPool = field(default_factory=lambda: SmallIdPool(1, 4094, "local VLAN tag"))
    vhost_pool: SmallIdPool = field(default_factory=lambda: SmallIdPool(0, 65535, "vhost-user interface number"))
    tap_pool: SmallIdPool = field(default_factory=lambda: SmallIdPool(0, 65535, "tap interface number"))


def _index_add(index: dict[str, dict[str, None]], key: str, value: str) -> None:
    index.setdefault(key, {})[value] = None


def _index_remove(index: dict[str, dict[str, None]], key: str, value: str) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(value, None)
        if not members:
            del index[key]


class LabModel(ComputeMutations, NetworkMutations, RouterMutations):
    """One simulated data centre. Build it with ``generate_lab``; the collections are
    dicts keyed by id (by name for regions, hosts, zones, flavors) in creation order."""

    def __init__(self, spec: LabSpec, clock: Callable[[], datetime] = utc_now):
        spec.validate()
        self.spec = spec
        self.lock = threading.RLock()
        self.clock = clock
        #: Bumped by every mutation, so readers can cache what they render.
        self.version = 0
        self.ids = IdMaker(random.Random(spec.seed))
        self.regions: dict[str, Region] = {}
        self.projects: dict[str, Project] = {}
        self.users: dict[str, User] = {}
        self.zones: dict[str, AvailabilityZone] = {}
        self.aggregates: dict[int, Aggregate] = {}
        self.flavors: dict[str, Flavor] = {}
        self.images: dict[str, Image] = {}
        self.hosts: dict[str, Host] = {}
        self.agents: dict[str, Agent] = {}
        self.services: dict[str, NovaService] = {}
        self.networks: dict[str, Network] = {}
        self.subnets: dict[str, Subnet] = {}
        self.ports: dict[str, Port] = {}
        self.routers: dict[str, Router] = {}
        self.instances: dict[str, Instance] = {}
        self.aci: AciFabric | None = None
        self.host_state: dict[str, HostState] = {}
        self.ip_pools: dict[str, IpPool] = {}
        self.instances_by_host: dict[str, dict[str, None]] = {}
        self.ports_by_host: dict[str, dict[str, None]] = {}
        self.ports_by_network: dict[str, dict[str, None]] = {}
        self.ports_by_device: dict[str, dict[str, None]] = {}
        #: network id → hosts with a port bound on it (where the network "exists").
        self.network_hosts: dict[str, dict[str, None]] = {}
        self.next_instance_number = 1
        #: (region, network type) → free segmentation ids; subnets handed out so far.
        self.segment_pools: dict[tuple[str, str], SmallIdPool] = {}
        self.cidr_counters = {"tenant": 0, "external": 0}
        #: host name → (model version, its switching view): see ``switching.host_switching``.
        self.switching_cache: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        #: The admin user and the admin project, set by the generator.
        self.admin_user_id = ""
        self.admin_project_id = ""

    # --- reading ---------------------------------------------------------------------------

    @property
    def mechanism_driver(self) -> str:
        return self.spec.mechanism_driver

    @property
    def type_driver(self) -> str:
        return self.spec.type_driver

    def now(self) -> str:
        return iso(self.clock())

    def get(self, collection: str, key: Any) -> Any:
        """The record ``key`` of ``collection`` (``"instances"``, ``"ports"`` …), or a
        ``LabError`` with status 404 naming both."""
        record = getattr(self, collection).get(key)
        if record is None:
            kind = collection.rstrip("s").capitalize()
            raise LabError(f"{kind} {key} could not be found.", 404, f"{kind}NotFound")
        return record

    def hosts_with_role(self, role: str, region: str | None = None) -> list[Host]:
        return [h for h in self.hosts.values() if role in h.roles and (region is None or h.region == region)]

    def external_network(self, region: str) -> Network | None:
        return next((n for n in self.networks.values() if n.external and n.region == region), None)

    def host_ports(self, host: str) -> list[Port]:
        return [self.ports[p] for p in self.ports_by_host.get(host, ())]

    def host_instances(self, host: str) -> list[Instance]:
        return [self.instances[i] for i in self.instances_by_host.get(host, ())]

    def network_ports(self, network_id: str) -> list[Port]:
        return [self.ports[p] for p in self.ports_by_network.get(network_id, ())]

    def device_ports(self, device_id: str) -> list[Port]:
        return [self.ports[p] for p in self.ports_by_device.get(device_id, ())]

    def tunnel_hosts(self, region: str) -> list[Host]:
        """Hosts of ``region`` that terminate tunnels (have an L2 agent and a tunnel IP)."""
        return [h for h in self.hosts.values() if h.region == region and h.tunnel_ip]

    def vif_details(self, port: Port) -> dict[str, Any]:
        """``binding:vif_details`` of a port as its mechanism driver sets it."""
        if port.vif_type == "ovs":
            return {"port_filter": True, "ovs_hybrid_plug": True, "datapath_type": "system",
                    "bridge_name": "br-int", "connectivity": "l2"}
        if port.vif_type == "bridge":
            return {"port_filter": True, "connectivity": "l2"}
        if port.vif_type == "vhostuser":
            return {"vhostuser_socket": f"/tmp/{port.id}", "vhostuser_mode": "server", "port_filter": False}
        if port.vif_type == "tap":
            return {"port_filter": False}
        return {}

    def vif_type_for(self, device_owner: str) -> str:
        driver = self.spec.mechanism_driver
        if driver == "OVS":
            return "ovs"
        if driver == "LXB":
            return "bridge"
        return "vhostuser" if device_owner.startswith("compute:") else "tap"

    def agent_configurations(self, agent: Agent) -> dict[str, Any]:
        """An agent's ``configurations``: the static part plus the counts it reports."""
        config = dict(agent.configurations)
        if agent.agent_type == "DHCP agent":
            nets = [n for n in self.networks.values() if n.dhcp_host == agent.host]
            config["networks"] = len(nets)
            config["subnets"] = sum(len(n.subnet_ids) for n in nets)
            config["ports"] = sum(len(self.ports_by_network.get(n.id, ())) for n in nets)
        elif agent.agent_type == "L3 agent":
            routers = [r for r in self.routers.values() if r.host == agent.host]
            config["routers"] = len(routers)
            config["interfaces"] = sum(len(r.interface_port_ids) for r in routers)
            config["gateways"] = sum(1 for r in routers if r.gateway_port_id)
            config["ex_gw_ports"] = config["gateways"]
        elif "devices" in config:
            config["devices"] = len(self.ports_by_host.get(agent.host, ()))
        return config

    def counts(self) -> dict[str, int]:
        """How many objects of each kind the model holds (for tests and benchmarks)."""
        return {name: len(getattr(self, name)) for name in (
            "regions", "projects", "zones", "aggregates", "hosts", "agents", "services",
            "networks", "subnets", "ports", "routers", "instances")}

    # --- keeping indexes and host state in step (used by the generator and mutations) --------

    def add_port(self, port: Port) -> None:
        self.ports[port.id] = port
        _index_add(self.ports_by_network, port.network_id, port.id)
        if port.device_id:
            _index_add(self.ports_by_device, port.device_id, port.id)
        if port.host:
            self._bind(port)

    def remove_port(self, port: Port) -> None:
        if port.host:
            self._unbind(port)
        if port.device_id:
            _index_remove(self.ports_by_device, port.device_id, port.id)
        _index_remove(self.ports_by_network, port.network_id, port.id)
        for subnet_id, address in port.fixed_ips:
            pool = self.ip_pools.get(subnet_id)
            if pool is not None:
                pool.release(address)
        self.ids.release_mac(port.mac)
        del self.ports[port.id]

    def _bind(self, port: Port) -> None:
        state = self.host_state[port.host]
        _index_add(self.ports_by_host, port.host, port.id)
        count = state.net_ports.get(port.network_id, 0)
        if count == 0:
            state.local_ids[port.network_id] = state.local_id_pool.take()
            _index_add(self.network_hosts, port.network_id, port.host)
        state.net_ports[port.network_id] = count + 1
        if self.spec.mechanism_driver == "VPP":
            pool = state.vhost_pool if port.device_owner.startswith("compute:") else state.tap_pool
            state.if_numbers[port.id] = pool.take()

    def _unbind(self, port: Port) -> None:
        state = self.host_state[port.host]
        _index_remove(self.ports_by_host, port.host, port.id)
        count = state.net_ports[port.network_id] - 1
        if count == 0:
            del state.net_ports[port.network_id]
            state.local_id_pool.give_back(state.local_ids.pop(port.network_id))
            _index_remove(self.network_hosts, port.network_id, port.host)
        else:
            state.net_ports[port.network_id] = count
        number = state.if_numbers.pop(port.id, None)
        if number is not None:
            pool = state.vhost_pool if port.device_owner.startswith("compute:") else state.tap_pool
            pool.give_back(number)

    def add_instance(self, instance: Instance) -> None:
        self.instances[instance.id] = instance
        _index_add(self.instances_by_host, instance.host, instance.id)

    def remove_instance(self, instance: Instance) -> None:
        _index_remove(self.instances_by_host, instance.host, instance.id)
        del self.instances[instance.id]

    def new_port(self, network: Network, device_owner: str, device_id: str, host: str, project_id: str,
                 name: str = "", subnet_id: str | None = None, address: str | None = None) -> Port:
        """A port on ``network`` with an address from ``subnet_id`` (default: the network's
        first subnet; ``address`` when given, e.g. the gateway for a router interface),
        bound to ``host`` unless that is ''."""
        fixed_ips: tuple[tuple[str, str], ...] = ()
        subnet_id = subnet_id or (network.subnet_ids[0] if network.subnet_ids else None)
        if subnet_id:
            fixed_ips = ((subnet_id, address or self.ip_pools[subnet_id].allocate()),)
        now = self.now()
        port = Port(
            id=self.ids.uuid(), name=name, network_id=network.id, project_id=project_id, mac=self.ids.mac(),
            fixed_ips=fixed_ips, device_id=device_id, device_owner=device_owner, host=host,
            vif_type=self.vif_type_for(device_owner) if host else "unbound", created_at=now, updated_at=now,
            status="ACTIVE" if host else "DOWN",
        )
        self.add_port(port)
        return port

    def touch(self, record: Any) -> None:
        """Mark a record changed now: ``updated_at`` and ``revision``."""
        record.updated_at = self.now()
        record.revision += 1
