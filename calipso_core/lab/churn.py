"""Random, valid changes to a lab model: what a busy cloud does all day.

``random_change(model, rng)`` picks one mutation (boot, delete, rename, stop, start an
instance; create, rename, delete networks with their subnets, ports and routers; add and
remove router interfaces), applies it and returns its ``Change``. Weighted so that the
cloud neither empties nor explodes. ``only`` limits the mutations to those of some
collections (``CHANGED``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING

from calipso_core.lab.ids import LabError
from calipso_core.lab.records import Change

if TYPE_CHECKING:
    from calipso_core.lab.model import LabModel

MAX_ATTEMPTS = 20


def random_change(model: LabModel, rng: random.Random, only: Collection[str] | None = None) -> Change:
    """Apply one random mutation that the model accepts, of those that change the
    collections ``only`` names (any, without; see ``CHANGED``): ``LabError`` after
    ``MAX_ATTEMPTS`` refusals in a row, which only an empty cloud causes."""
    unknown = set(only or ()) - set(CHANGED.values())
    if unknown:
        raise LabError(f"no mutation changes {', '.join(sorted(unknown))}: the lab changes "
                       f"{', '.join(sorted(set(CHANGED.values())))}", 400, "BadRequest")
    moves = [(m, w) for m, w in MOVES if only is None or CHANGED[m] in only]
    actions = [m for m, _ in moves]
    weights = [w for _, w in moves]
    with model.lock:
        for _ in range(MAX_ATTEMPTS):
            action: Callable[[LabModel, random.Random], Change | None] = rng.choices(actions, weights)[0]
            try:
                change = action(model, rng)
            except LabError:
                change = None
            if change is not None:
                return change
    raise LabError("no mutation applies to this lab model")


def _pick(rng: random.Random, items: dict) -> object | None:
    if not items:
        return None
    keys = list(items)
    return items[keys[rng.randrange(len(keys))]]


def _boot(model: LabModel, rng: random.Random) -> Change | None:
    return model.boot_instance()


def _delete_instance(model: LabModel, rng: random.Random) -> Change | None:
    instance = _pick(rng, model.instances)
    return model.delete_instance(instance.id) if instance else None


def _rename_instance(model: LabModel, rng: random.Random) -> Change | None:
    instance = _pick(rng, model.instances)
    return model.rename_instance(instance.id, f"{instance.name.split('~')[0]}~{rng.randrange(1000)}") \
        if instance else None


def _toggle_power(model: LabModel, rng: random.Random) -> Change | None:
    instance = _pick(rng, model.instances)
    if instance is None:
        return None
    if instance.vm_state == "stopped":
        return model.power_on_instance(instance.id)
    return model.power_off_instance(instance.id)


def _tenant_networks(model: LabModel) -> dict:
    return {k: n for k, n in model.networks.items() if not n.external and not n.shared}


def _network_cycle(model: LabModel, rng: random.Random) -> Change | None:
    """Create a network with a subnet, or delete a network no instance or router uses."""
    idle = {k: n for k, n in _tenant_networks(model).items()
            if all(p.device_owner == "network:dhcp" for p in model.network_ports(k))}
    if idle and rng.random() < 0.5:
        return model.delete_network(_pick(rng, idle).id)
    if rng.random() < 0.3:
        network = _pick(rng, _tenant_networks(model))
        return model.update_network(network.id, name=f"{network.name.split('~')[0]}~{rng.randrange(1000)}") \
            if network else None
    project = _pick(rng, {k: p for k, p in model.projects.items() if p.name != "service"})
    region = list(model.regions)[rng.randrange(len(model.regions))]
    change = model.create_network(project.id, region=region)
    return replace(change, followed_by=(model.create_subnet(change.object_id),))


def _port_cycle(model: LabModel, rng: random.Random) -> Change | None:
    free = {k: p for k, p in model.ports.items() if not p.device_owner}
    if free and rng.random() < 0.5:
        return model.delete_port(_pick(rng, free).id)
    if free and rng.random() < 0.3:
        return model.update_port(_pick(rng, free).id, name=f"port-{rng.randrange(1000)}")
    network = _pick(rng, _tenant_networks(model))
    return model.create_port(network.id, name=f"port-{rng.randrange(1000)}") if network else None


def _router_cycle(model: LabModel, rng: random.Random) -> Change | None:
    """Attach a router to a subnet, detach one, or create or delete an empty router."""
    router = _pick(rng, model.routers)
    choice = rng.random()
    if router is not None and choice < 0.4:
        attached = {s for p in router.interface_port_ids for s, _ in model.ports[p].fixed_ips}
        candidates = {k: s for k, s in model.subnets.items() if k not in attached
                      and model.networks[s.network_id].project_id == router.project_id
                      and model.networks[s.network_id].region == router.region
                      and not model.networks[s.network_id].external
                      and not any(p.device_owner == "network:router_interface"
                                  and (k, s.gateway_ip) in p.fixed_ips for p in model.network_ports(s.network_id))}
        subnet = _pick(rng, candidates)
        return model.add_router_interface(router.id, subnet.id) if subnet else None
    if router is not None and router.interface_port_ids and choice < 0.7:
        port = model.ports[router.interface_port_ids[rng.randrange(len(router.interface_port_ids))]]
        return model.remove_router_interface(router.id, port.fixed_ips[0][0])
    if router is not None and not router.interface_port_ids and choice < 0.85:
        return model.delete_router(router.id)
    project = _pick(rng, {k: p for k, p in model.projects.items() if p.name.startswith("tenant-")})
    return model.create_router(project.id, region=router.region if router else None)


MOVES = [(_boot, 4), (_delete_instance, 3), (_rename_instance, 2), (_toggle_power, 2), (_network_cycle, 1),
         (_port_cycle, 1), (_router_cycle, 1)]
#: The collection each mutation changes (its notifications' first word).
CHANGED = {_boot: "instance", _delete_instance: "instance", _rename_instance: "instance", _toggle_power: "instance",
           _network_cycle: "network", _port_cycle: "port", _router_cycle: "router"}
