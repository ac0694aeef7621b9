"""Neutron's network, subnet, port, router and router interface notifications.

Networks and ports are written from the notification's body (checked against the
stored ``revision_number``: an older revision is stale and skipped) through discovery's
own fetchers, under their project's and network's folders. Whatever a change does on a
host (a DHCP namespace, a router's interfaces, a port bound to the host) makes that host
be rescanned and relinked once per batch.
"""

from __future__ import annotations

import logging

from calipso_core.events import EventError
from calipso_core.events.rescan import rescan_subtree
from calipso_plugins_openstack.events import payloads
from calipso_plugins_openstack.events.refresh import (
    forget_shared,
    hosts_of_written_ports,
    refresh_host,
    refresh_network,
    region_of,
    relink_host,
    scoped,
    shown,
)

log = logging.getLogger(__name__)


def _region(ev, note) -> str | None:
    return region_of(ev, payloads.publisher_host(note.publisher_id))


def _stale(ev, object_id: str, body: dict, stored: dict | None) -> bool:
    if ev.is_stale(object_id, ev.version(body.get("revision_number")), stored):
        log.debug("%s about %s (revision %s) is stale", ev.notification.event_type, object_id,
                  body.get("revision_number"))
        ev.stats["stale"] += 1
        return True
    return False


def _stamp(ev, object_id: str, body: dict) -> None:
    if isinstance(body.get("revision_number"), int):
        ev.stamp(object_id, revision_number=body["revision_number"])
    ev.memory.recreated(object_id)


def _hosts_of_network(ev, network_id: str, owners: str = "") -> set[str]:
    """The hosts of the network's bound ports (of those whose owner starts with ``owners``)."""
    return {p["binding:host_id"] for p in ev.find({"type": "port", "network_id": network_id})
            if p.get("binding:host_id") and (p.get("device_owner") or "").startswith(owners)}


def _relabel_instances(ev, network_id: str, name: str | None) -> set[str]:
    """A renamed network's new label in the network info of its instances (discovery
    reads it from the network's name); returns their hosts."""
    docs = []
    for instance in ev.find({"type": "instance", "network": [network_id]}):
        info = [{**n, "network": {**n["network"], "label": name}} if (n.get("network") or {}).get("id") == network_id
                else n for n in instance.get("network_info") or ()]
        docs.append({**instance, "network_info": info})
    ev.save_documents(docs)
    return {doc["host"] for doc in docs if doc.get("host")}


# -- networks and subnets --------------------------------------------------------------------


def handle_network_change(ev, note) -> None:
    body = payloads.network_body(note.payload)
    old = ev.get(body["id"])
    if _stale(ev, body["id"], body, old):
        return
    forget_shared(ev)
    if refresh_network(ev, body["id"], _region(ev, note), body) is None:
        return
    ev.memory.recreated(body["id"])
    if old is not None and old.get("name") != body.get("name"):
        # Nothing changed on the compute hosts: their instances' labels and the links named
        # by them did. The network nodes' DHCP vServices are named by it: rescanned.
        for host in _relabel_instances(ev, body["id"], body.get("name")):
            relink_host(ev, host)
        for host in _hosts_of_network(ev, body["id"], owners="network:"):
            refresh_host(ev, host)


def handle_network_delete(ev, note) -> None:
    network_id = payloads.deleted_id(note.payload, "network")
    forget_shared(ev)
    hosts = _hosts_of_network(ev, network_id)
    version = ev.version(payloads.deleted_body(note.payload, "network").get("revision_number"))
    if ev.get(network_id) is not None:
        ev.delete(network_id, version)
    else:  # not applied yet (its creation may come late): remember it is gone
        ev.memory.deleted(network_id, version)
    for host in hosts:
        refresh_host(ev, host)


def handle_subnet(ev, note) -> None:
    """Any subnet change rewrites its network (cidrs, subnets) from the API."""
    forget_shared(ev)
    if note.event_type.startswith("subnet.delete"):
        subnet_id = payloads.deleted_id(note.payload, "subnet")
        body = payloads.deleted_body(note.payload, "subnet")
        ev.memory.deleted(subnet_id, ev.version(body.get("revision_number")))
    else:
        body = payloads.resource(note.payload, "subnet")
        subnet_id = body["id"]
        if ev.memory.deletion_of(subnet_id) is not None:
            ev.stats["stale"] += 1
            return
    network_id = body.get("network_id")
    if not network_id:
        holders = ev.find({"type": "network", "subnet_ids": [subnet_id]}, limit=1)
        if not holders:
            return
        network_id = holders[0]["id"]
    if not isinstance(network_id, str):
        raise EventError(f"subnet network_id is a {type(network_id).__name__}, not a string", subnet_id, "subnet")
    refresh_network(ev, network_id, _region(ev, note))


# -- ports -------------------------------------------------------------------------------------


def handle_port_change(ev, note) -> None:
    body = payloads.port_body(note.payload)
    port_id, network_id = body["id"], body["network_id"]
    stored = ev.get(port_id)
    if _stale(ev, port_id, body, stored):
        return
    folder = ev.get(f"{network_id}-ports")
    if folder is None:
        if ev.get(network_id) is None or refresh_network(ev, network_id, _region(ev, note)) is None:
            return  # a network discovery leaves out (a service project's)
    else:
        sources = scoped(ev, folder.get("region"))
        sources.seed(("openstack", "ports", folder.get("region")), lambda: [body])
        hosts_of_written_ports(ev, rescan_subtree(ev, folder, "openstack.ports", sources, sweep=False, recurse=False))
    _stamp(ev, port_id, body)


def handle_port_delete(ev, note) -> None:
    port_id = payloads.deleted_id(note.payload, "port")
    body = payloads.deleted_body(note.payload, "port")
    stored = ev.get(port_id)
    if stored is not None and stored.get("type") != "port":
        raise EventError(f"{port_id} is a {stored.get('type')} in the inventory, not a port", port_id, "port")
    version = ev.version(body.get("revision_number"))
    if stored is not None:
        ev.delete(port_id, version)
    else:
        ev.memory.deleted(port_id, version)
    host = (stored or {}).get("binding:host_id") or body.get("binding:host_id")
    if isinstance(host, str) and host:
        refresh_host(ev, host)


# -- routers -----------------------------------------------------------------------------------


def router_host(ev, router_id: str, region: str | None) -> str | None:
    """The network node of a router: where its stored vService is, else its L3 agent's host."""
    stored = ev.find({"type": "vservice", "router_id": router_id}, limit=1)
    if stored:
        return stored[0].get("host")
    agents = shown(ev.sources, region, "network", f"/routers/{router_id}/l3-agents", "agents")
    return agents[0]["host"] if agents else None  # None: the router is gone already


def handle_router_change(ev, note) -> None:
    """Router create/update and interface add/remove: rescan the router's network node."""
    forget_shared(ev)
    if note.event_type.startswith("router.interface"):
        router_id = payloads.router_interface(note.payload)["id"]
    else:
        router_id = payloads.resource(note.payload, "router")["id"]
        if ev.memory.deletion_of(router_id) is not None:
            ev.stats["stale"] += 1
            return
    host = router_host(ev, router_id, _region(ev, note))
    if host:
        refresh_host(ev, host)


def handle_router_delete(ev, note) -> None:
    router_id = payloads.deleted_id(note.payload, "router")
    forget_shared(ev)
    ev.memory.deleted(router_id, ev.version())
    for vservice in ev.find({"type": "vservice", "router_id": router_id}):
        ev.delete(vservice["id"])
        refresh_host(ev, vservice["host"])
