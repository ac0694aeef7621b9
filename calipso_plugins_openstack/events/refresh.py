"""Re-reading part of the cloud with discovery's own fetchers, narrowed to what changed.

The fetchers read whole collections through ``calipso_plugins_openstack.api.collection``
(cached per scan under ``("openstack", <name>, <region>)``). For an event, a scoped
context is filled beforehand with just the part that matters, read with the API's own
filters: the servers, ports and agents of one host (``host=``, ``binding:host_id=``), the
ports of one network, one server. The small collections (networks, subnets, routers,
projects) are read once per batch. Then the scan engine runs the usual scanners under
the stored object, so the documents are exactly those a scan writes.
"""

from __future__ import annotations

from urllib.parse import quote

from calipso_core.events.context import NOT_CONTENT
from calipso_core.events.rescan import RescanResult, fetch_subtree, rescan_subtree, store_subtrees
from calipso_core.events.sources import ScopedSources
from calipso_core.types import Document
from calipso_plugins_openstack.api import COLLECTIONS, NOVA_MICROVERSION, OpenStackError, api

HOST_SCANNER = "openstack.host"
#: Objects whose host is not in their ``host`` field (for recomputing a host's links).
HOST_FIELDS = {"port": "binding:host_id"}
#: Small collections kept across batches until a Neutron event about them (``forget_shared``).
SHARED_COLLECTIONS = ("networks", "subnets", "routers")
#: How long other kept collections live: agents (their state) and Keystone's projects.
AGENTS_TTL, PROJECTS_TTL = 60.0, 300.0


def listed(sources, region: str | None, name: str, query: str = "") -> list[dict]:
    """A collection of ``COLLECTIONS`` read with a filter (``query`` like ``host=x``)."""
    service, path, key = COLLECTIONS[name]
    joiner = "&" if "?" in path else "?"
    return api(sources, region).list(service, f"{path}{joiner}{query}" if query else path, key)


def shown(sources, region: str | None, service: str, path: str, key: str) -> dict | None:
    """One resource (``GET path``), or None when the API says it does not exist (404)."""
    adapter = getattr(api(sources, region).conn, service)
    extra = {"microversion": NOVA_MICROVERSION} if service == "compute" else {}
    response = adapter.get(path, raise_exc=False, **extra)
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise OpenStackError(f"{service} GET {path} answered {response.status_code}: {response.text[:200]}")
    return response.json().get(key)


def scoped(ev, region: str) -> ScopedSources:
    """A scoped context with the kept small collections of ``region``."""
    sources = ev.sources.scope()
    for name in SHARED_COLLECTIONS:
        sources.from_parent(("openstack", name, region), lambda n=name: listed(ev.sources, region, n))
    sources.from_parent(("openstack", "agents", region), lambda: listed(ev.sources, region, "agents"), AGENTS_TTL)
    sources.from_parent(("openstack", "projects", None), lambda: listed(ev.sources, None, "projects"), PROJECTS_TTL)
    return sources


def forget_shared(ev) -> None:
    """A network, subnet or router changed: read the small collections again."""
    ev.sources.forget(lambda key: isinstance(key, tuple) and len(key) == 3 and key[1] in SHARED_COLLECTIONS)


def host_sources(ev, host: Document) -> ScopedSources:
    """The sources of one host: its servers and its bound ports only."""
    name, region = host["id"], host.get("region")
    sources = scoped(ev, region)
    sources.seed(("host_type", name), lambda: host.get("host_type") or [])
    for collection, query in (("servers", f"host={quote(name)}"),
                              ("ports", f"binding:host_id={quote(name)}")):
        sources.seed(("openstack", collection, region), lambda c=collection, q=query: listed(ev.sources, region, c, q))
    return sources


# -- what handlers ask for -----------------------------------------------------------------


def refresh_host(ev, host: str) -> None:
    """Rescan ``host`` (its instances, vServices, NICs, bridges, vEdges) and recompute its
    links, once at the end of the batch (with the other hosts to rescan)."""
    ev.later_for("openstack.refresh-hosts", host, _refresh_hosts)


def relink_host(ev, host: str) -> None:
    ev.relink(host, HOST_FIELDS)


def _refresh_hosts(ev, hosts: list[str]) -> None:
    """Read the hosts at the same time (their APIs' part and over SSH), then store them
    together and relink each."""
    docs = {doc["id"]: doc for doc in ev.inventory.get_many(ev.name, hosts, ev.conn) if doc.get("type") == "host"}
    for host in hosts:
        if host not in docs:
            ev.report("warn", f"host {host} is not in the inventory (a scan adds new hosts)", related_object=host,
                      related_object_type="host", reason="unknown host")
    found = ev.sources.hosts_pool().map(lambda doc: fetch_subtree(ev, doc, HOST_SCANNER, host_sources(ev, doc)),
                                        docs.values())
    store_subtrees(ev, list(zip(docs.values(), found, strict=True)))
    ev.stats["hosts_rescanned"] += len(docs)
    for host in docs:
        relink_host(ev, host)


def refresh_instance(ev, instance: Document) -> None:
    """Rewrite one stored instance from the API (a rename), without asking its host."""
    folder, host = ev.get(instance["parent_id"]), ev.get(instance.get("host", ""))
    if folder is None or host is None:
        return
    region = host.get("region")
    sources = host_sources(ev, host)
    server = shown(ev.sources, region, "compute", f"/servers/{instance['id']}", "server")
    sources.seed(("openstack", "servers", region), lambda: [server] if server else [])
    sources.seed(("openstack", "ports", region),
                 lambda: listed(ev.sources, region, "ports", f"device_id={quote(instance['id'])}"))
    if server is not None:
        rescan_subtree(ev, folder, "openstack.instances", sources, sweep=False, recurse=False)


def refresh_network(ev, network_id: str, region: str, body: dict | None = None) -> Document | None:
    """Rewrite a network (from ``body``, else from the API) with its subnets and its ports
    folder and ports, under its project's networks folder; None when there is nothing to
    write (the network is gone, or its project is not discovered). Each object written
    keeps the revision it was read at, so that an older event about it is found stale."""
    if body is None:
        body = shown(ev.sources, region, "network", f"/networks/{network_id}", "network")
        if body is None:
            return None
    project = body.get("project_id") or body.get("tenant_id")
    folder = ev.get(f"{project}-networks")
    if folder is None:
        return None
    ports = listed(ev.sources, region, "ports", f"network_id={quote(network_id)}")
    sources = scoped(ev, region)
    sources.seed(("openstack", "regions", None), lambda: [{"id": region}])
    sources.seed(("openstack", "networks", region), lambda: [body])
    sources.seed(("openstack", "subnets", region),
                 lambda: listed(ev.sources, region, "subnets", f"network_id={quote(network_id)}"))
    sources.seed(("openstack", "ports", region), lambda: ports)
    result = rescan_subtree(ev, folder, "openstack.networks", sources, sweep=False)
    revisions = {p["id"]: p.get("revision_number") for p in ports} | {network_id: body.get("revision_number")}
    ev.stamp_many({doc["id"]: {"revision_number": revisions[doc["id"]]} for doc in result.written
                   if isinstance(revisions.get(doc["id"]), int)})
    hosts_of_written_ports(ev, result)
    return ev.get(network_id)


def hosts_of_written_ports(ev, result: RescanResult) -> None:
    """A port written new or changed shows on the hosts it is (and was) bound to; not one
    that only moved in the tree (its network renamed: a new name path)."""
    for doc in result.written:
        if doc.get("type") == "port":
            before = result.before.get(doc["id"], {})
            if before and _as_port(before) == _as_port(doc):
                continue
            for host in {doc.get("binding:host_id"), before.get("binding:host_id")} - {None, ""}:
                refresh_host(ev, host)


def _as_port(doc: Document) -> Document:
    """What a port is, wherever it sits in the tree."""
    return {k: v for k, v in doc.items() if v is not None and k not in NOT_CONTENT | {"id_path", "name_path"}}


def region_of(ev, host: str | None) -> str | None:
    """The region of a host, else the environment's only region, else None."""
    doc = ev.get(host) if host else None
    if doc is not None and doc.get("region"):
        return doc["region"]
    regions = ev.find({"type": "region"}, limit=2)
    return regions[0]["id"] if len(regions) == 1 else None
