"""The records a lab model is made of: the cloud's objects and the hosts' hardware.

Every record is a slotted dataclass (a lab of 20,000 instances holds some 100,000 of
them). Field values are immutable (str, int, bool, tuple, frozen records); a mutation
assigns a new value instead of changing one in place, so ``as_dict()`` is a safe
snapshot and ``Type(**snapshot)`` rebuilds the record. ``vif_details``-like dicts that
several records share are treated as read-only.

Times are ISO 8601 strings in UTC (``2025-03-01T08:00:00Z``); renderers convert them to
whatever format a protocol uses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def as_dict(record: Any) -> dict[str, Any]:
    """A shallow snapshot of a record: field name to value."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(f.name for f in fields(record))
    return {name: getattr(record, name) for name in names}


# --- Identity and placement -------------------------------------------------------------


@dataclass(slots=True)
class Region:
    name: str
    description: str = ""


@dataclass(slots=True)
class Project:
    """A Keystone project; ``id`` is 32 hex digits as Keystone writes it."""

    id: str
    name: str
    description: str = ""
    domain_id: str = "default"
    enabled: bool = True


@dataclass(slots=True)
class User:
    id: str
    name: str
    domain_id: str = "default"


@dataclass(slots=True)
class AvailabilityZone:
    name: str
    region: str


@dataclass(slots=True)
class Aggregate:
    """A Nova host aggregate; ``availability_zone`` is set for zone aggregates."""

    id: int
    uuid: str
    name: str
    region: str
    availability_zone: str | None
    hosts: tuple[str, ...]
    metadata: dict[str, str]
    created_at: str


@dataclass(frozen=True, slots=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str


# --- Hosts --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OsRelease:
    """What ``/etc/os-release`` and ``uname``/``arch`` say about a host."""

    name: str
    version: str
    id: str
    id_like: str
    version_id: str
    pretty_name: str
    architecture: str
    kernel: str


@dataclass(frozen=True, slots=True)
class Pnic:
    """A host's physical NIC (``kind='ether'``) or a bond of two of them (``kind='bond'``).

    ``purpose``: ``management`` (carries the host's address), ``data`` (tunnel or provider
    VLAN traffic; holds ``tunneling_ip`` with vxlan) or ``external`` (network nodes' uplink
    to the external network). A bond member has ``bond`` set to its master's name and no
    address. ``pci`` is the PCI address (VPP names its interfaces after it).
    """

    name: str
    mac: str
    purpose: str
    kind: str = "ether"
    speed_mbps: int = 10000
    ip: str | None = None
    prefixlen: int = 24
    pci: str = ""
    driver: str = "ixgbe"
    bond: str | None = None
    members: tuple[str, ...] = ()
    mtu: int = 1500


@dataclass(frozen=True, slots=True)
class Hypervisor:
    """The Nova hypervisor of a compute host."""

    id: str
    number: int
    hypervisor_type: str
    hypervisor_version: int
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_model: str


@dataclass(slots=True)
class Host:
    """A server of the data centre.

    ``roles`` ⊂ {controller, network, compute}. ``tunnel_ip`` is the address of the data
    NIC (the agent's ``tunneling_ip`` with vxlan); ``data_nic`` names the NIC (or bond)
    that carries instance traffic, ``external_nic`` the network node's external uplink.
    """

    name: str
    region: str
    zone: str
    roles: tuple[str, ...]
    mgmt_ip: str
    tunnel_ip: str | None
    os: OsRelease
    pnics: tuple[Pnic, ...]
    data_nic: str
    external_nic: str | None
    hypervisor: Hypervisor | None
    started_at: str

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def physical_nics(self) -> tuple[Pnic, ...]:
        """The NICs that have a cable (bonds excluded)."""
        return tuple(p for p in self.pnics if p.kind == "ether")


@dataclass(slots=True)
class Agent:
    """A Neutron agent; ``configurations`` holds the static part (counts are added when
    rendered, from the model)."""

    id: str
    agent_type: str
    binary: str
    host: str
    topic: str
    availability_zone: str | None
    configurations: dict[str, Any]
    created_at: str
    alive: bool = True
    admin_state_up: bool = True


@dataclass(slots=True)
class NovaService:
    id: str
    number: int
    binary: str
    host: str
    zone: str
    region: str
    status: str = "enabled"
    state: str = "up"
    disabled_reason: str | None = None
    forced_down: bool = False
    updated_at: str = ""


# --- Networking -------------------------------------------------------------------------------


@dataclass(slots=True)
class Network:
    """A Neutron network. ``dhcp_host`` is the network node whose DHCP agent serves it."""

    id: str
    name: str
    project_id: str
    region: str
    network_type: str
    physical_network: str | None
    segmentation_id: int | None
    shared: bool
    external: bool
    mtu: int
    subnet_ids: tuple[str, ...]
    dhcp_host: str | None
    created_at: str
    updated_at: str
    admin_state_up: bool = True
    status: str = "ACTIVE"
    revision: int = 1


@dataclass(slots=True)
class Subnet:
    id: str
    name: str
    network_id: str
    project_id: str
    cidr: str
    gateway_ip: str
    enable_dhcp: bool
    allocation_start: str
    allocation_end: str
    dns_nameservers: tuple[str, ...]
    created_at: str
    updated_at: str
    ip_version: int = 4
    revision: int = 1


@dataclass(slots=True)
class Port:
    """A Neutron port. ``host`` is ``binding:host_id`` ('' when unbound); ``fixed_ips`` holds
    ``(subnet id, address)`` pairs."""

    id: str
    name: str
    network_id: str
    project_id: str
    mac: str
    fixed_ips: tuple[tuple[str, str], ...]
    device_id: str
    device_owner: str
    host: str
    vif_type: str
    created_at: str
    updated_at: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    revision: int = 1

    @property
    def short_id(self) -> str:
        """The 11 characters Neutron puts after a device prefix: ``tap`` + short_id."""
        return self.id[:11]


@dataclass(slots=True)
class Router:
    id: str
    name: str
    project_id: str
    region: str
    host: str
    gateway_network_id: str | None
    gateway_port_id: str | None
    interface_port_ids: tuple[str, ...]
    created_at: str
    updated_at: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    revision: int = 1


@dataclass(slots=True)
class Instance:
    """A Nova server; ``number`` gives the libvirt name ``instance-%08x``."""

    id: str
    name: str
    project_id: str
    user_id: str
    region: str
    host: str
    zone: str
    number: int
    flavor: str
    image_id: str
    port_ids: tuple[str, ...]
    created_at: str
    updated_at: str
    launched_at: str
    vm_state: str = "active"
    power_state: int = 1
    task_state: str | None = None
    revision: int = 1

    @property
    def libvirt_name(self) -> str:
        return f"instance-{self.number:08x}"


# --- ACI fabric -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AciSwitch:
    """A fabric node: ``role`` is ``leaf`` or ``spine``; ``dn`` is ``topology/pod-1/node-<id>``."""

    node_id: int
    name: str
    role: str
    serial: str
    model: str
    address: str
    version: str
    pair: int | None = None

    @property
    def dn(self) -> str:
        return f"topology/pod-1/node-{self.node_id}"


@dataclass(frozen=True, slots=True)
class HostLink:
    """The cable from a host's physical NIC to a leaf port ``eth1/<n>``."""

    host: str
    pnic: str
    mac: str
    leaf_id: int
    port: str


@dataclass(frozen=True, slots=True)
class FabricLink:
    """A leaf uplink to a spine; LLDP sees it from both ends."""

    leaf_id: int
    leaf_port: str
    spine_id: int
    spine_port: str


@dataclass(frozen=True, slots=True)
class AciFabric:
    pod: int
    switches: tuple[AciSwitch, ...]
    host_links: tuple[HostLink, ...]
    fabric_links: tuple[FabricLink, ...]

    @property
    def leaves(self) -> tuple[AciSwitch, ...]:
        return tuple(s for s in self.switches if s.role == "leaf")

    @property
    def spines(self) -> tuple[AciSwitch, ...]:
        return tuple(s for s in self.switches if s.role == "spine")


# --- Changes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """What one mutation did to one object.

    ``kind`` is ``<object type>.<action>`` (``instance.create``, ``port.delete``,
    ``router.interface.create`` …). ``before``/``after`` are ``as_dict`` snapshots of the
    record (``None`` for a creation or a deletion); ``Port(**change.after)`` rebuilds one.
    ``preceded_by``/``followed_by`` are the changes the mutation made to other objects
    before and after this one (booting an instance creates its ports first; deleting it
    deletes them afterwards).
    """

    kind: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    preceded_by: tuple[Change, ...] = ()
    followed_by: tuple[Change, ...] = ()

    def all(self) -> tuple[Change, ...]:
        """Every change of the mutation in the order it happened (the order in which a
        cloud announces them)."""
        return (*(c for p in self.preceded_by for c in p.all()), self,
                *(c for f in self.followed_by for c in f.all()))


def created(object_type: str, record: Any, preceded_by: tuple[Change, ...] = (),
            followed_by: tuple[Change, ...] = ()) -> Change:
    return Change(f"{object_type}.create", object_type, _key(record), None, as_dict(record), preceded_by, followed_by)


def deleted(object_type: str, record: Any, preceded_by: tuple[Change, ...] = (),
            followed_by: tuple[Change, ...] = ()) -> Change:
    return Change(f"{object_type}.delete", object_type, _key(record), as_dict(record), None, preceded_by, followed_by)


def changed(kind: str, before: dict[str, Any], record: Any, preceded_by: tuple[Change, ...] = (),
            followed_by: tuple[Change, ...] = ()) -> Change:
    """A change of ``kind`` from snapshot ``before`` to the record's present state."""
    return Change(kind, kind.split(".", 1)[0], _key(record), before, as_dict(record), preceded_by, followed_by)


def _key(record: Any) -> str:
    return str(getattr(record, "id", None) or record.name)
