"""The lab's Neutron (network) API for one region at ``/<region>/network/v2.0``.

Lists filter on any field of the resource (several values of one field mean "any of
them"; ``fixed_ips=ip_address=…`` matches inside the list), honour ``fields``, and page
as Neutron does: only when the request has ``limit`` (or the server a
``pagination_max_limit``), sorted by id, with ``next`` when a page is full and
``previous`` always. Unknown markers and filters are errors, as in Neutron.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calipso_core.lab.ids import LabError
from calipso_core.lab.model import LabModel
from calipso_plugins_openstack.lab.api.common import (
    ApiContext,
    base_url,
    dumps,
    error_response,
    json_response,
    lab_error_response,
    list_body,
    raw_response,
)
from calipso_plugins_openstack.lab.api.neutron_render import (
    agent_dict,
    network_dict,
    port_dict,
    router_dict,
    subnet_dict,
)

RESERVED = {"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir"}
FAST_PORT_FILTERS = {"device_id": "ports_by_device", "network_id": "ports_by_network",
                     "binding:host_id": "ports_by_host"}
EXTENSIONS = ("agent", "availability_zone", "binding", "dhcp_agent_scheduler", "external-net", "l3_agent_scheduler",
              "network_availability_zone", "pagination", "project-id", "provider", "router",
              "router_availability_zone", "security-group", "sorting", "standard-attr-revisions",
              "standard-attr-tag", "standard-attr-timestamp")


@dataclass(frozen=True)
class Collection:
    """How one kind of resource is found in the model and rendered."""

    plural: str
    singular: str
    records: Callable[[LabModel, str], list]
    render: Callable[[ApiContext, object], dict]
    cached: bool = True

    @property
    def title(self) -> str:
        return self.singular.capitalize()


def _region_of_network(model: LabModel, network_id: str) -> str | None:
    network = model.networks.get(network_id)
    return network.region if network else None


COLLECTIONS = {c.plural: c for c in (
    Collection("networks", "network", lambda m, r: [n for n in m.networks.values() if n.region == r],
               lambda ctx, n: network_dict(n)),
    Collection("subnets", "subnet",
               lambda m, r: [s for s in m.subnets.values() if _region_of_network(m, s.network_id) == r],
               lambda ctx, s: subnet_dict(s)),
    Collection("ports", "port",
               lambda m, r: [p for p in m.ports.values() if _region_of_network(m, p.network_id) == r],
               lambda ctx, p: port_dict(ctx.model, p)),
    Collection("routers", "router", lambda m, r: [x for x in m.routers.values() if x.region == r],
               lambda ctx, x: router_dict(ctx.model, x)),
    Collection("agents", "agent", lambda m, r: [a for a in m.agents.values() if m.hosts[a.host].region == r],
               lambda ctx, a: agent_dict(ctx.model, a, ctx.clock()), cached=False),
)}


def endpoint(handler):
    """Token and region checks, the model lock, and Neutron's error bodies."""

    async def run(request: Request) -> Response:
        ctx: ApiContext = request.app.state.ctx
        if ctx.authenticated(request) is None:
            return error_response("neutron", 401)
        try:
            region = ctx.region(request)
            with ctx.model.lock:
                return handler(ctx, request, region)
        except LabError as error:
            return lab_error_response("neutron", error)

    return run


def rendered(ctx: ApiContext, collection: Collection, record) -> tuple[dict, bytes]:
    if not collection.cached:
        body = collection.render(ctx, record)
        return body, dumps(body)
    return ctx.cache.get(collection.singular, None, record.id, record.revision,
                         lambda: collection.render(ctx, record))


def matches(body: dict, key: str, wanted: list[str]) -> bool:
    value = body[key]
    if isinstance(value, list):
        if key == "fixed_ips":
            pairs = [w.split("=", 1) for w in wanted if "=" in w]
            return any(str(ip.get(k)) == v for ip in value for k, v in pairs)
        return any(w in [str(v) for v in value] for w in wanted)
    if isinstance(value, bool):
        return str(value).lower() in [w.lower() for w in wanted]
    return ("" if value is None else str(value)) in wanted


def candidates(ctx: ApiContext, collection: Collection, region: str, request: Request) -> list:
    """The records of the region, narrowed through an index when a port filter allows."""
    model, query = ctx.model, request.query_params
    if collection.plural == "ports":
        for key, index in FAST_PORT_FILTERS.items():
            if key in query:
                ids = {i for value in query.getlist(key) for i in getattr(model, index).get(value, ())}
                return [p for p in model.ports.values() if p.id in ids
                        and _region_of_network(model, p.network_id) == region] if len(ids) > 0 else []
    return collection.records(model, region)


def list_resources(ctx: ApiContext, request: Request, region: str, collection: Collection) -> Response:
    query = request.query_params
    filters = {k: query.getlist(k) for k in query if k not in RESERVED}
    records = candidates(ctx, collection, region, request)
    ctx.cache.prune(collection.singular, getattr(ctx.model, collection.plural))
    items = [rendered(ctx, collection, r) for r in records]
    if items:
        unknown = [k for k in filters if k not in items[0][0]]
        if unknown:
            raise LabError(f"{unknown} is invalid attribute for filtering", 400, "HTTPBadRequest")
    items = [(r, body, raw) for r, (body, raw) in zip(records, items, strict=True)
             if all(matches(body, k, v) for k, v in filters.items())]
    links: dict = {}
    limit = _limit(ctx, request)
    if limit is not None:
        items, links = _page(ctx, request, region, collection, items, limit)
    fields = query.getlist("fields")
    pieces = [dumps({k: body[k] for k in fields if k in body}) if fields else raw for _, body, raw in items]
    return raw_response(list_body(collection.plural, pieces, links))


def _limit(ctx: ApiContext, request: Request) -> int | None:
    text = request.query_params.get("limit")
    if text is None:
        return ctx.neutron_max_limit if ctx.neutron_max_limit > 0 else None
    try:
        limit = int(text)
    except ValueError:
        raise LabError(f"Invalid input for limit. Reason: '{text}' is not an integer.", 400, "HTTPBadRequest") \
            from None
    if limit <= 0:
        return ctx.neutron_max_limit if ctx.neutron_max_limit > 0 else None
    return min(limit, ctx.neutron_max_limit) if ctx.neutron_max_limit > 0 else limit


def _page(ctx: ApiContext, request: Request, region: str, collection: Collection, items: list,
          limit: int) -> tuple[list, dict]:
    items = sorted(items, key=lambda item: item[0].id)
    marker = request.query_params.get("marker")
    start = 0
    if marker is not None:
        if marker not in getattr(ctx.model, collection.plural):
            raise LabError(f"{collection.title} {marker} could not be found.", 404, f"{collection.title}NotFound")
        start = bisect_right([item[0].id for item in items], marker)
    chosen = items[start:start + limit]
    keep = [(k, v) for k, v in request.query_params.multi_items() if k not in ("marker", "page_reverse")]
    here = f"{base_url(request)}{request.url.path}"
    links = []
    if len(chosen) >= limit:
        links.append({"rel": "next", "href": f"{here}?{urlencode(keep + [('marker', chosen[-1][0].id)])}"})
    if chosen:
        back = keep + [("marker", chosen[0][0].id), ("page_reverse", "True")]
        links.append({"rel": "previous", "href": f"{here}?{urlencode(back)}"})
    return chosen, ({f"{collection.plural}_links": links} if links else {})


def show_resource(ctx: ApiContext, request: Request, region: str, collection: Collection) -> Response:
    wanted = request.path_params["resource_id"]
    record = next((r for r in collection.records(ctx.model, region) if r.id == wanted), None)
    if record is None:
        raise LabError(f"{collection.title} {wanted} could not be found.", 404, f"{collection.title}NotFound")
    body, _ = rendered(ctx, collection, record)
    fields = request.query_params.getlist("fields")
    return json_response({collection.singular: {k: body[k] for k in fields if k in body} if fields else body})


def agent_hosted(ctx: ApiContext, request: Request, region: str, kind: str) -> Response:
    """``/agents/{id}/dhcp-networks`` and ``/agents/{id}/l3-routers``."""
    agent = ctx.model.get("agents", request.path_params["resource_id"])
    if kind == "dhcp-networks":
        return json_response({"networks": [network_dict(n) for n in ctx.model.networks.values()
                                           if n.dhcp_host == agent.host and agent.agent_type == "DHCP agent"]})
    return json_response({"routers": [router_dict(ctx.model, r) for r in ctx.model.routers_on(agent.host)
                                      if agent.agent_type == "L3 agent"]})


def hosting_agents(ctx: ApiContext, request: Request, region: str, kind: str) -> Response:
    """``/networks/{id}/dhcp-agents`` and ``/routers/{id}/l3-agents``."""
    model, wanted = ctx.model, request.path_params["resource_id"]
    if kind == "dhcp-agents":
        host, agent_type = model.get("networks", wanted).dhcp_host, "DHCP agent"
    else:
        host, agent_type = model.get("routers", wanted).host, "L3 agent"
    return json_response({"agents": [agent_dict(model, a, ctx.clock()) for a in model.agents.values()
                                     if a.host == host and a.agent_type == agent_type]})


async def versions(request: Request) -> Response:
    href = f"{base_url(request)}/{request.path_params['region']}/network/v2.0/"
    return json_response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})


def resources(ctx: ApiContext, request: Request, region: str) -> Response:
    here = f"{base_url(request)}/{region}/network/v2.0"
    return json_response({"resources": [{"name": c.singular, "collection": c.plural,
                                         "links": [{"rel": "self", "href": f"{here}/{c.plural}"}]}
                                        for c in COLLECTIONS.values()]})


def extensions(ctx: ApiContext, request: Request, region: str) -> Response:
    updated = "2013-01-01T00:00:00-00:00"
    return json_response({"extensions": [{"alias": a, "name": a, "description": "", "updated": updated, "links": []}
                                         for a in EXTENSIONS]})


def _bound(handler, **fixed):
    return endpoint(lambda ctx, request, region: handler(ctx, request, region, **fixed))


PREFIX = "/{region}/network/v2.0"
ROUTES = [
    Route("/{region}/network", versions, methods=["GET"]),
    Route("/{region}/network/", versions, methods=["GET"]),
    Route(PREFIX + "/", endpoint(resources), methods=["GET"]),
    Route(PREFIX + "/extensions", endpoint(extensions), methods=["GET"]),
    Route(PREFIX + "/agents/{resource_id}/dhcp-networks", _bound(agent_hosted, kind="dhcp-networks"), methods=["GET"]),
    Route(PREFIX + "/agents/{resource_id}/l3-routers", _bound(agent_hosted, kind="l3-routers"), methods=["GET"]),
    Route(PREFIX + "/networks/{resource_id}/dhcp-agents", _bound(hosting_agents, kind="dhcp-agents"),
          methods=["GET"]),
    Route(PREFIX + "/routers/{resource_id}/l3-agents", _bound(hosting_agents, kind="l3-agents"), methods=["GET"]),
    *[Route(f"{PREFIX}/{plural}", _bound(list_resources, collection=c), methods=["GET"])
      for plural, c in COLLECTIONS.items()],
    *[Route(f"{PREFIX}/{plural}/{{resource_id}}", _bound(show_resource, collection=c), methods=["GET"])
      for plural, c in COLLECTIONS.items()],
]
