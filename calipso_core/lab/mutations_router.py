"""Router mutations of the lab model: create, update, delete, add and remove interfaces.

Mixed into ``LabModel``. A router lives on one network node (its ``qrouter-`` namespace):
its gateway port on the region's external network and each interface port (holding the
subnet's gateway address) are bound there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calipso_core.lab.ids import LabError
from calipso_core.lab.locking import locked
from calipso_core.lab.records import Change, Router, as_dict, changed, created, deleted

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel


class RouterMutations:
    @locked
    def create_router(self: LabModel, project_id: str, name: str | None = None, region: str | None = None,
                      external_gateway: bool = True) -> Change:
        """A router on the least busy network node, with a gateway on the external network."""
        project = self.get("projects", project_id)
        region = region or next(iter(self.regions))
        host = self._least_busy_network_node(region, "router")
        now = self.now()
        router = Router(
            id=self.ids.uuid(), name=name or f"{project.name}-router-{len(self.routers) + 1}", project_id=project.id,
            region=region, host=host, gateway_network_id=None, gateway_port_id=None, interface_port_ids=(),
            created_at=now, updated_at=now,
        )
        effects: tuple[Change, ...] = ()
        external = self.external_network(region) if external_gateway else None
        if external is not None and external.subnet_ids:
            port = self.new_port(external, "network:router_gateway", router.id, host, "")
            router.gateway_network_id = external.id
            router.gateway_port_id = port.id
            effects = (created("port", port),)
        self.routers[router.id] = router
        return created("router", router, preceded_by=effects)

    @locked
    def update_router(self: LabModel, router_id: str, name: str) -> Change:
        router = self.get("routers", router_id)
        before = as_dict(router)
        router.name = name
        self.touch(router)
        return changed("router.update", before, router)

    @locked
    def delete_router(self: LabModel, router_id: str) -> Change:
        router = self.get("routers", router_id)
        if router.interface_port_ids:
            raise LabError(f"Router {router_id} still has ports", 409, "RouterInUse")
        effects: tuple[Change, ...] = ()
        if router.gateway_port_id:
            port = self.ports[router.gateway_port_id]
            effects = (deleted("port", port),)
            self.remove_port(port)
        del self.routers[router_id]
        return deleted("router", router, preceded_by=effects)

    @locked
    def add_router_interface(self: LabModel, router_id: str, subnet_id: str) -> Change:
        """Attach ``subnet`` to the router through a port holding the subnet's gateway."""
        router = self.get("routers", router_id)
        subnet = self.get("subnets", subnet_id)
        network = self.networks[subnet.network_id]
        if network.region != router.region or network.external:
            raise LabError(f"Subnet {subnet_id} cannot be attached to router {router_id}", 400, "BadRequest")
        taken = [p for p in self.network_ports(network.id)
                 if p.device_owner == "network:router_interface" and (subnet_id, subnet.gateway_ip) in p.fixed_ips]
        if taken:
            raise LabError(f"Router already has a port on subnet {subnet_id}", 400, "BadRequest")
        port = self.new_port(network, "network:router_interface", router.id, router.host, router.project_id,
                             subnet_id=subnet_id, address=subnet.gateway_ip)
        before = as_dict(router)
        router.interface_port_ids = (*router.interface_port_ids, port.id)
        self.touch(router)
        return changed("router.interface.create", before, router, preceded_by=(created("port", port),))

    @locked
    def remove_router_interface(self: LabModel, router_id: str, subnet_id: str) -> Change:
        router = self.get("routers", router_id)
        port = next((self.ports[p] for p in router.interface_port_ids
                     if any(s == subnet_id for s, _ in self.ports[p].fixed_ips)), None)
        if port is None:
            raise LabError(f"Router {router_id} has no interface on subnet {subnet_id}", 404, "RouterInterfaceNotFound")
        before = as_dict(router)
        router.interface_port_ids = tuple(p for p in router.interface_port_ids if p != port.id)
        port_change = deleted("port", port)
        self.remove_port(port)
        self.touch(router)
        return changed("router.interface.delete", before, router, followed_by=(port_change,))

    def routers_on(self: LabModel, host: str) -> list[Router]:
        return [r for r in self.routers.values() if r.host == host]
