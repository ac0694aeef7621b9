"""Instance mutations of the lab model: boot, delete, rename, power off, power on.

Mixed into ``LabModel``; each method runs under the model's lock and returns a
``Change``. Booting creates the instance's ports first (``preceded_by``); deleting
removes them afterwards (``followed_by``), as Nova does through Neutron.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from calipso_core.lab.ids import LabError
from calipso_core.lab.locking import locked
from calipso_core.lab.records import Change, Instance, Network, as_dict, changed, created, deleted

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

#: libvirt/Nova power states.
RUNNING, SHUTDOWN = 1, 4


class ComputeMutations:
    @locked
    def boot_instance(self: LabModel, project_id: str | None = None, host: str | None = None,
                      network_ids: Sequence[str] | None = None, name: str | None = None,
                      flavor: str | None = None, image_id: str | None = None) -> Change:
        """Boot an instance with one port per network. Defaults: a tenant project, the least
        loaded compute host, the project's first network (else the region's shared one)."""
        project = self.get("projects", project_id) if project_id else self._pick_tenant()
        compute = self.get("hosts", host) if host else self._least_loaded_compute()
        if "compute" not in compute.roles:
            raise LabError(f"host {compute.name} is not a compute host", 400, "BadRequest")
        networks = [self.get("networks", n) for n in network_ids] if network_ids is not None \
            else [self._default_network(project.id, compute.region)]
        for network in networks:
            self._check_usable(network, project.id, compute.region)
        number = self.next_instance_number
        self.next_instance_number += 1
        instance_id = self.ids.uuid()
        owner = f"compute:{compute.zone}"
        ports = [self.new_port(n, owner, instance_id, compute.name, project.id) for n in networks]
        now = self.now()
        instance = Instance(
            id=instance_id, name=name or f"{project.name}-vm-{number}", project_id=project.id,
            user_id=self.admin_user_id, region=compute.region, host=compute.name, zone=compute.zone,
            number=number, flavor=flavor or self._pick_flavor(number), image_id=image_id or self._pick_image(number),
            port_ids=tuple(p.id for p in ports), created_at=now, updated_at=now, launched_at=now,
        )
        self.add_instance(instance)
        return created("instance", instance, preceded_by=tuple(created("port", p) for p in ports))

    @locked
    def delete_instance(self: LabModel, instance_id: str) -> Change:
        instance = self.get("instances", instance_id)
        port_changes = []
        for port_id in instance.port_ids:
            port = self.ports[port_id]
            port_changes.append(deleted("port", port))
            self.remove_port(port)
        self.remove_instance(instance)
        return deleted("instance", instance, followed_by=tuple(port_changes))

    @locked
    def rename_instance(self: LabModel, instance_id: str, name: str) -> Change:
        instance = self.get("instances", instance_id)
        before = as_dict(instance)
        instance.name = name
        self.touch(instance)
        return changed("instance.update", before, instance)

    @locked
    def power_off_instance(self: LabModel, instance_id: str) -> Change:
        """Stop an instance: libvirt destroys its tap devices, so its ports go DOWN."""
        return self._set_power(instance_id, on=False)

    @locked
    def power_on_instance(self: LabModel, instance_id: str) -> Change:
        return self._set_power(instance_id, on=True)

    # --- internals -------------------------------------------------------------------------

    def _set_power(self: LabModel, instance_id: str, on: bool) -> Change:
        instance = self.get("instances", instance_id)
        wanted = "active" if on else "stopped"
        if instance.vm_state == wanted:
            raise LabError(f"Cannot '{'start' if on else 'stop'}' instance {instance_id} while it is in "
                           f"vm_state {instance.vm_state}", 409, "InstanceInvalidState")
        before = as_dict(instance)
        port_changes = []
        for port_id in instance.port_ids:
            port = self.ports[port_id]
            port_before = as_dict(port)
            port.status = "ACTIVE" if on else "DOWN"
            self.touch(port)
            port_changes.append(changed("port.update", port_before, port))
        instance.vm_state = wanted
        instance.power_state = RUNNING if on else SHUTDOWN
        self.touch(instance)
        kind = "instance.power_on" if on else "instance.power_off"
        return changed(kind, before, instance, followed_by=tuple(port_changes))

    def _pick_tenant(self: LabModel):
        tenants = [p for p in self.projects.values() if p.name != "service"]
        return tenants[self.ids.rng.randrange(len(tenants))]

    def _least_loaded_compute(self: LabModel):
        computes = self.hosts_with_role("compute")
        return min(computes, key=lambda h: len(self.instances_by_host.get(h.name, ())))

    def _default_network(self: LabModel, project_id: str, region: str) -> Network:
        for network in self.networks.values():
            if network.project_id == project_id and network.region == region and not network.external \
                    and network.subnet_ids:
                return network
        for network in self.networks.values():
            if network.shared and network.region == region and network.subnet_ids:
                return network
        raise LabError(f"project {project_id} has no network in region {region} to boot on", 400, "BadRequest")

    def _check_usable(self: LabModel, network: Network, project_id: str, region: str) -> None:
        if network.region != region:
            raise LabError(f"Network {network.id} is in region {network.region}, not {region}", 400, "BadRequest")
        if network.external or not (network.shared or network.project_id == project_id):
            raise LabError(f"Network {network.id} is not usable by project {project_id}", 400, "BadRequest")

    def _pick_flavor(self: LabModel, number: int) -> str:
        names = list(self.flavors)
        return names[number % len(names)]

    def _pick_image(self: LabModel, number: int) -> str:
        ids = list(self.images)
        return ids[number % len(ids)]
