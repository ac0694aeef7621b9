"""Network, subnet and port mutations of the lab model.

Mixed into ``LabModel``. A network's DHCP is served by one network node: the first
DHCP-enabled subnet creates the ``network:dhcp`` port there (and so the ``qdhcp-``
namespace); deleting the last one removes it. Refusals use Neutron's statuses and error
types (409 ``NetworkInUse``, ``SubnetInUse``, ``L3PortInUse``).
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import TYPE_CHECKING

from calipso_core.lab.ids import IpPool, LabError, SmallIdPool
from calipso_core.lab.locking import locked
from calipso_core.lab.records import Change, Network, Port, Subnet, as_dict, changed, created, deleted

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

#: Where generated subnets come from: tenant /20s, external /22s.
TENANT_SPACE = ipaddress.IPv4Network("10.64.0.0/10")
EXTERNAL_SPACE = ipaddress.IPv4Network("172.24.0.0/14")
SEGMENT_RANGES = {"vxlan": (1001, 16000000), "vlan": (100, 4094)}
MTU = {"vxlan": 1450, "vlan": 1500, "flat": 1500}
ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")


def dhcp_device_id(host: str, network_id: str) -> str:
    """The ``device_id`` Neutron gives a DHCP port: ``dhcp<uuid5 of the host>-<network id>``."""
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


class NetworkMutations:
    @locked
    def create_network(self: LabModel, project_id: str, name: str | None = None, region: str | None = None,
                       shared: bool = False, external: bool = False) -> Change:
        """A tenant network of the lab's type driver, or (``external``) a flat network."""
        project = self.get("projects", project_id)
        region = region or next(iter(self.regions))
        network_type = "flat" if external else self.spec.type_driver
        physnet = "external" if external else ("physnet1" if network_type == "vlan" else None)
        segment = None if network_type == "flat" else self._segment_pool(region, network_type).take()
        now = self.now()
        network = Network(
            id=self.ids.uuid(), name=name or f"{project.name}-net-{len(self.networks) + 1}", project_id=project.id,
            region=region, network_type=network_type, physical_network=physnet, segmentation_id=segment,
            shared=shared, external=external, mtu=MTU[network_type], subnet_ids=(), dhcp_host=None,
            created_at=now, updated_at=now,
        )
        self.networks[network.id] = network
        return created("network", network)

    @locked
    def update_network(self: LabModel, network_id: str, name: str | None = None,
                       admin_state_up: bool | None = None) -> Change:
        network = self.get("networks", network_id)
        before = as_dict(network)
        if name is not None:
            network.name = name
            for port in self.network_ports(network_id):  # servers show addresses by network name
                if port.device_owner.startswith("compute:") and port.device_id in self.instances:
                    self.instances[port.device_id].revision += 1
        if admin_state_up is not None:
            network.admin_state_up = admin_state_up
        self.touch(network)
        return changed("network.update", before, network)

    @locked
    def delete_network(self: LabModel, network_id: str) -> Change:
        network = self.get("networks", network_id)
        in_use = [p for p in self.network_ports(network_id) if p.device_owner != "network:dhcp"]
        if in_use:
            raise LabError(f"Unable to complete operation on network {network_id}. There are one or more ports "
                           "still in use on the network.", 409, "NetworkInUse")
        effects = [self._delete_port_record(p) for p in self.network_ports(network_id)]
        for subnet_id in network.subnet_ids:
            subnet = self.subnets.pop(subnet_id)
            self.ip_pools.pop(subnet_id)
            effects.append(deleted("subnet", subnet))
        if network.segmentation_id is not None:
            self._segment_pool(network.region, network.network_type).give_back(network.segmentation_id)
        del self.networks[network_id]
        return deleted("network", network, preceded_by=tuple(effects))

    @locked
    def create_subnet(self: LabModel, network_id: str, cidr: str | None = None, name: str | None = None,
                      enable_dhcp: bool = True) -> Change:
        network = self.get("networks", network_id)
        cidr = cidr or self._next_cidr(network.external)
        pool = IpPool(cidr)
        now = self.now()
        subnet = Subnet(
            id=self.ids.uuid(), name=name or f"{network.name}-subnet", network_id=network.id,
            project_id=network.project_id, cidr=str(pool.network), gateway_ip=str(pool.network.network_address + 1),
            enable_dhcp=enable_dhcp, allocation_start=pool.first, allocation_end=pool.last,
            dns_nameservers=() if network.external else ("8.8.8.8",), created_at=now, updated_at=now,
        )
        self.subnets[subnet.id] = subnet
        self.ip_pools[subnet.id] = pool
        before = as_dict(network)
        network.subnet_ids = (*network.subnet_ids, subnet.id)
        self.touch(network)
        effects = [changed("network.update", before, network)]
        if enable_dhcp:
            effects.append(self._serve_dhcp(network, subnet))
        return created("subnet", subnet, followed_by=tuple(effects))

    @locked
    def update_subnet(self: LabModel, subnet_id: str, name: str) -> Change:
        subnet = self.get("subnets", subnet_id)
        before = as_dict(subnet)
        subnet.name = name
        self.touch(subnet)
        return changed("subnet.update", before, subnet)

    @locked
    def delete_subnet(self: LabModel, subnet_id: str) -> Change:
        subnet = self.get("subnets", subnet_id)
        network = self.networks[subnet.network_id]
        users = [p for p in self.network_ports(network.id)
                 if p.device_owner != "network:dhcp" and any(s == subnet_id for s, _ in p.fixed_ips)]
        if users:
            raise LabError(f"Unable to complete operation on subnet {subnet_id}: One or more ports have an IP "
                           "allocation from this subnet.", 409, "SubnetInUse")
        effects = [self._drop_dhcp_address(p, subnet_id) for p in self.network_ports(network.id)
                   if p.device_owner == "network:dhcp"]
        before = as_dict(network)
        network.subnet_ids = tuple(s for s in network.subnet_ids if s != subnet_id)
        if not any(self.subnets[s].enable_dhcp for s in network.subnet_ids):
            network.dhcp_host = None
        self.touch(network)
        del self.subnets[subnet_id]
        del self.ip_pools[subnet_id]
        return deleted("subnet", subnet, preceded_by=tuple(effects),
                       followed_by=(changed("network.update", before, network),))

    @locked
    def create_port(self: LabModel, network_id: str, name: str = "", project_id: str | None = None) -> Change:
        """An unbound port (no device), as a user creates one before attaching it."""
        network = self.get("networks", network_id)
        port = self.new_port(network, "", "", "", project_id or network.project_id, name=name)
        return created("port", port)

    @locked
    def update_port(self: LabModel, port_id: str, name: str | None = None,
                    admin_state_up: bool | None = None) -> Change:
        port = self.get("ports", port_id)
        before = as_dict(port)
        if name is not None:
            port.name = name
        if admin_state_up is not None:
            port.admin_state_up = admin_state_up
        self.touch(port)
        return changed("port.update", before, port)

    @locked
    def delete_port(self: LabModel, port_id: str) -> Change:
        """Delete a port; an instance's port is detached from it, a DHCP port is recreated
        by its agent; router ports must be removed through the router."""
        port = self.get("ports", port_id)
        if port.device_owner in ROUTER_OWNERS:
            raise LabError(f"Port {port_id} cannot be deleted directly via the port API: has device owner "
                           f"{port.device_owner}.", 409, "L3PortInUse")
        change = self._delete_port_record(port)
        followers: list[Change] = []
        instance = self.instances.get(port.device_id)
        if instance is not None:
            before = as_dict(instance)
            instance.port_ids = tuple(p for p in instance.port_ids if p != port_id)
            self.touch(instance)
            followers.append(changed("instance.update", before, instance))
        elif port.device_owner == "network:dhcp":
            network = self.networks[port.network_id]
            subnet = next(self.subnets[s] for s in network.subnet_ids if self.subnets[s].enable_dhcp)
            followers.append(self._serve_dhcp(network, subnet))
        return Change(change.kind, change.object_type, change.object_id, change.before, None, (), tuple(followers))

    # --- internals -------------------------------------------------------------------------

    def _delete_port_record(self: LabModel, port: Port) -> Change:
        change = deleted("port", port)
        self.remove_port(port)
        return change

    def _serve_dhcp(self: LabModel, network: Network, subnet: Subnet) -> Change:
        """Give ``subnet`` an address on the network's DHCP port, creating the port (on the
        least busy network node) when the network has none."""
        existing = [p for p in self.network_ports(network.id) if p.device_owner == "network:dhcp"]
        if existing:
            port = existing[0]
            before = as_dict(port)
            port.fixed_ips = (*port.fixed_ips, (subnet.id, self.ip_pools[subnet.id].allocate()))
            self.touch(port)
            return changed("port.update", before, port)
        if network.dhcp_host is None:
            network.dhcp_host = self._least_busy_network_node(network.region, "dhcp")
        host = network.dhcp_host
        port = self.new_port(network, "network:dhcp", dhcp_device_id(host, network.id), host, network.project_id,
                             subnet_id=subnet.id)
        return created("port", port)

    def _drop_dhcp_address(self: LabModel, port: Port, subnet_id: str) -> Change:
        remaining = tuple((s, a) for s, a in port.fixed_ips if s != subnet_id)
        if not remaining:
            return self._delete_port_record(port)
        before = as_dict(port)
        for s, address in port.fixed_ips:
            if s == subnet_id:
                self.ip_pools[s].release(address)
        port.fixed_ips = remaining
        self.touch(port)
        return changed("port.update", before, port)

    def _least_busy_network_node(self: LabModel, region: str, service: str) -> str:
        nodes = self.hosts_with_role("network", region)
        if not nodes:
            raise LabError(f"region {region} has no network node to host {service}", 409, "Conflict")
        if service == "dhcp":
            load = {h.name: 0 for h in nodes}
            for n in self.networks.values():
                if n.dhcp_host in load:
                    load[n.dhcp_host] += 1
        else:
            load = {h.name: 0 for h in nodes}
            for r in self.routers.values():
                if r.host in load:
                    load[r.host] += 1
        return min(load, key=lambda name: load[name])

    def _segment_pool(self: LabModel, region: str, network_type: str) -> SmallIdPool:
        key = (region, network_type)
        if key not in self.segment_pools:
            first, last = SEGMENT_RANGES[network_type]
            self.segment_pools[key] = SmallIdPool(first, last, f"{network_type} segmentation id in {region}")
        return self.segment_pools[key]

    def _next_cidr(self: LabModel, external: bool) -> str:
        counters = self.cidr_counters
        key, space, prefix = ("external", EXTERNAL_SPACE, 22) if external else ("tenant", TENANT_SPACE, 20)
        index = counters[key]
        counters[key] += 1
        size = 1 << (32 - prefix)
        if (index + 1) * size > space.num_addresses:
            raise LabError(f"no free /{prefix} left in {space}", 409, "Conflict")
        return f"{space.network_address + index * size}/{prefix}"
