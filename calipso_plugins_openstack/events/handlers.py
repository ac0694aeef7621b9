"""Which handler applies which Nova and Neutron event type."""

from __future__ import annotations

from calipso_core.types import EventHandler
from calipso_plugins_openstack.events import neutron, nova


def _ignore(ev, note) -> None:
    """Announced, but nothing to apply: the matching end event carries the change."""
    ev.stats["ignored"] += 1


def _resource_events(resource: str, actions: tuple[str, ...], phase: str = ".end") -> tuple[str, ...]:
    # Neutron sends "<resource>.<action>.end"; some releases also sent "<resource>.<action>" alone.
    return tuple(f"{resource}.{action}{phase}" for action in actions) + (
        tuple(f"{resource}.{action}" for action in actions) if phase == ".end" else ())


NEUTRON_IGNORED = tuple(event for resource in ("network", "subnet", "port", "router")
                        for event in _resource_events(resource, ("create", "update", "delete"), ".start"))

EVENT_HANDLERS = [
    EventHandler("openstack.instance", nova.ACTION_EVENTS, nova.handle_instance_action,
                 description="an instance created, rebuilt, stopped, started, suspended, resumed: rescan its host"),
    EventHandler("openstack.instance-delete", nova.DELETE_EVENTS, nova.handle_instance_delete,
                 description="an instance deleted"),
    EventHandler("openstack.instance-update", nova.UPDATE_EVENTS, nova.handle_instance_update,
                 description="an instance renamed or gone"),
    EventHandler("openstack.network", _resource_events("network", ("create", "update")),
                 neutron.handle_network_change, description="a network created or changed"),
    EventHandler("openstack.network-delete", _resource_events("network", ("delete",)), neutron.handle_network_delete,
                 description="a network deleted"),
    EventHandler("openstack.subnet", _resource_events("subnet", ("create", "update", "delete")),
                 neutron.handle_subnet, description="a subnet changed: its network is rewritten"),
    EventHandler("openstack.port", _resource_events("port", ("create", "update")), neutron.handle_port_change,
                 description="a port created or changed"),
    EventHandler("openstack.port-delete", _resource_events("port", ("delete",)), neutron.handle_port_delete,
                 description="a port deleted"),
    EventHandler("openstack.router", _resource_events("router", ("create", "update"))
                 + ("router.interface.create", "router.interface.delete"), neutron.handle_router_change,
                 description="a router created or changed, an interface added or removed: rescan its node"),
    EventHandler("openstack.router-delete", _resource_events("router", ("delete",)), neutron.handle_router_delete,
                 description="a router deleted"),
    EventHandler("openstack.ignored", nova.IGNORED_EVENTS + NEUTRON_IGNORED, _ignore,
                 description="start events and audits, which change nothing by themselves"),
]
