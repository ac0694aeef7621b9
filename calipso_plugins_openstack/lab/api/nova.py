"""The lab's Nova (compute) API for one region at ``/<region>/compute``.

Version discovery (without a token) advertises microversions 2.1 to the server's
maximum; every other call needs a token and honours the microversion headers. Servers
come newest first and page as Nova pages them: ``limit`` (at most ``max_limit``),
``marker``, and a ``servers_links`` next link exactly when a page is full.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calipso_core.lab.ids import LabError
from calipso_plugins_openstack.lab.api.common import (
    ApiContext,
    base_url,
    dumps,
    error_response,
    json_response,
    lab_error_response,
    list_body,
    raw_response,
    truthy,
)
from calipso_plugins_openstack.lab.api.nova_render import (
    MicroVersion,
    aggregate_dict,
    compute_services,
    hypervisor_dict,
    server_dict,
    server_variant,
    service_dict,
    status_of,
    zone_dicts,
)

MIN_VERSION = (2, 1)


def parse_version(text: str) -> MicroVersion:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
    if not match:
        raise LabError(f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum.",
                       400, "BadRequest")
    return int(match[1]), int(match[2])


def requested_version(request: Request, maximum: MicroVersion) -> MicroVersion:
    """The microversion the request asks for (2.1 when it names none)."""
    text = request.headers.get("x-openstack-nova-api-version")
    for part in request.headers.get("openstack-api-version", "").split(","):
        service, _, value = part.strip().partition(" ")
        if service == "compute" and value:
            text = value
    if not text:
        return MIN_VERSION
    if text.strip() == "latest":
        return maximum
    version = parse_version(text)
    if not MIN_VERSION <= version <= maximum:
        raise LabError(f"Version {text} is not supported by the API. Minimum is 2.1 and maximum is "
                       f"{maximum[0]}.{maximum[1]}.", 406, "NotAcceptable")
    return version


def version_entries(ctx: ApiContext, compute: str) -> list[dict]:
    media = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]
    return [
        {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
         "links": [{"rel": "self", "href": f"{compute}/v2/"}]},
        {"id": "v2.1", "status": "CURRENT", "version": ctx.nova_max_version, "min_version": "2.1",
         "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": f"{compute}/v2.1/"}],
         "media-types": media},
    ]


async def versions(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    compute = f"{base_url(request)}/{request.path_params['region']}/compute"
    return json_response({"versions": version_entries(ctx, compute)})


async def version(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    compute = f"{base_url(request)}/{request.path_params['region']}/compute"
    return json_response({"version": version_entries(ctx, compute)[1]})


def endpoint(handler):
    """Token, region and microversion checks, the model lock, and Nova's error bodies."""

    async def run(request: Request) -> Response:
        ctx: ApiContext = request.app.state.ctx
        if ctx.authenticated(request) is None:
            return error_response("nova", 401)
        maximum = parse_version(ctx.nova_max_version)
        try:
            mv = requested_version(request, maximum)
            region = ctx.region(request)
            with ctx.model.lock:
                response = handler(ctx, request, mv, region)
        except LabError as error:
            return lab_error_response("nova", error)
        shown = f"{mv[0]}.{mv[1]}"
        response.headers.update({"OpenStack-API-Version": f"compute {shown}", "X-OpenStack-Nova-API-Version": shown,
                                 "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"})
        return response

    return run


def page(items: list, key_of, request: Request, max_limit: int) -> tuple[list, int, str | None]:
    """Nova paging: the items after ``marker``, at most ``limit``; the page size used."""
    query = request.query_params
    limit = max_limit
    if "limit" in query:
        try:
            limit = min(int(query["limit"]), max_limit)
        except ValueError:
            raise LabError("limit param must be an integer", 400, "BadRequest") from None
        if limit < 0:
            raise LabError("limit param must be positive", 400, "BadRequest")
    start = 0
    marker = query.get("marker")
    if marker is not None:
        found = next((n for n, item in enumerate(items) if str(key_of(item)) == marker), None)
        if found is None:
            raise LabError(f"marker [{marker}] not found", 400, "BadRequest")
        start = found + 1
    chosen = items[start:start + limit]
    return chosen, limit, marker


def next_links(request: Request, collection: str, chosen: list, limit: int, last_key: str) -> dict:
    """``{"<collection>_links": [next]}`` when the page is full, as Nova builds it."""
    if not chosen or len(chosen) < limit:
        return {}
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"] + [("marker", last_key)]
    href = f"{base_url(request)}{request.url.path}?{urlencode(sorted(params))}"
    return {f"{collection}_links": [{"rel": "next", "href": href}]}


def list_servers(ctx: ApiContext, request: Request, mv: MicroVersion, region: str, detail: bool) -> Response:
    model, query = ctx.model, request.query_params
    ids = list(model.instances_by_host.get(query["host"], ())) if "host" in query else list(model.instances)
    ids.reverse()  # newest first
    token = ctx.authenticated(request)
    everyone = truthy(query.get("all_tenants"))
    project = (query.get("project_id") or query.get("tenant_id")) if everyone else token.project_id
    status = query.get("status")
    name = re.compile(query["name"]) if "name" in query else None
    chosen = [model.instances[i] for i in ids]
    chosen = [i for i in chosen if i.region == region and (project is None or i.project_id == project)
              and (status is None or status_of(i) == status.upper()) and (name is None or name.search(i.name))
              and ("node" not in query or i.host == query["node"])]
    items, limit, _ = page(chosen, lambda i: i.id, request, ctx.nova_max_limit)
    base = base_url(request)
    ctx.cache.prune("server", model.instances)
    if detail:
        variant = (base, server_variant(mv))
        pieces = [ctx.cache.get("server", variant, i.id, i.revision, lambda i=i: server_dict(model, i, mv, base))[1]
                  for i in items]
    else:
        pieces = [_brief(base, i) for i in items]
    links = next_links(request, "servers", items, limit, items[-1].id if items else "")
    return raw_response(list_body("servers", pieces, links))


def _brief(base: str, instance) -> bytes:
    compute = f"{base}/{instance.region}/compute"
    return dumps({"id": instance.id, "name": instance.name,
                  "links": [{"rel": "self", "href": f"{compute}/v2.1/servers/{instance.id}"},
                            {"rel": "bookmark", "href": f"{compute}/servers/{instance.id}"}]})


def show_server(ctx: ApiContext, request: Request, mv: MicroVersion, region: str) -> Response:
    instance = ctx.model.get("instances", request.path_params["server_id"])
    if instance.region != region:
        raise LabError(f"Instance {instance.id} could not be found.", 404, "InstanceNotFound")
    return json_response({"server": server_dict(ctx.model, instance, mv, base_url(request))})


def list_hypervisors(ctx: ApiContext, request: Request, mv: MicroVersion, region: str, detail: bool) -> Response:
    model, query = ctx.model, request.query_params
    hosts = [h for h in model.hosts.values() if h.region == region and h.hypervisor is not None]
    if mv >= (2, 53) and "hypervisor_hostname_pattern" in query:
        hosts = [h for h in hosts if query["hypervisor_hostname_pattern"] in h.name]
        if not hosts:
            raise LabError(f"No hypervisor matching '{query['hypervisor_hostname_pattern']}' could be found.",
                           404, "HypervisorNotFound")
    with_servers = mv >= (2, 53) and truthy(query.get("with_servers", "false"))
    key = (lambda h: h.hypervisor.id) if mv >= (2, 53) else (lambda h: h.hypervisor.number)
    limit = len(hosts) or 1
    if mv >= (2, 33):
        hosts, limit, _ = page(hosts, key, request, ctx.nova_max_limit)
    services = compute_services(model)
    bodies = [hypervisor_dict(model, h, services[h.name], mv, detail,
                              model.host_instances(h.name) if with_servers else None) for h in hosts]
    links = next_links(request, "hypervisors", hosts, limit, str(key(hosts[-1])) if hosts else "") \
        if mv >= (2, 33) else {}
    return json_response({"hypervisors": bodies, **links})


def hypervisor_servers(ctx: ApiContext, request: Request, mv: MicroVersion, region: str, servers: bool) -> Response:
    """The pre-2.53 ``/os-hypervisors/{pattern}/servers`` and ``/search``."""
    pattern = request.path_params["pattern"]
    if mv >= (2, 53):
        raise LabError("The resource could not be found.", 404, "NotFound")
    hosts = [h for h in ctx.model.hosts.values() if h.region == region and h.hypervisor and pattern in h.name]
    if not hosts:
        raise LabError(f"No hypervisor matching '{pattern}' could be found.", 404, "HypervisorNotFound")
    services = compute_services(ctx.model)
    bodies = []
    for host in hosts:
        instances = ctx.model.host_instances(host.name) if servers else None
        bodies.append(hypervisor_dict(ctx.model, host, services[host.name], mv, False, instances or None))
    return json_response({"hypervisors": bodies})


def show_hypervisor(ctx: ApiContext, request: Request, mv: MicroVersion, region: str) -> Response:
    wanted = request.path_params["pattern"]
    for host in ctx.model.hosts.values():
        hv = host.hypervisor
        if hv is not None and host.region == region and wanted in (hv.id, str(hv.number)):
            service = compute_services(ctx.model)[host.name]
            return json_response({"hypervisor": hypervisor_dict(ctx.model, host, service, mv, True)})
    raise LabError(f"Hypervisor with ID {wanted} could not be found.", 404, "HypervisorNotFound")


def list_zones(ctx: ApiContext, request: Request, mv: MicroVersion, region: str, detail: bool) -> Response:
    return json_response({"availabilityZoneInfo": zone_dicts(ctx.model, region, detail)})


def list_aggregates(ctx: ApiContext, request: Request, mv: MicroVersion, region: str) -> Response:
    return json_response({"aggregates": [aggregate_dict(a, mv) for a in ctx.model.aggregates.values()
                                         if a.region == region]})


def show_aggregate(ctx: ApiContext, request: Request, mv: MicroVersion, region: str) -> Response:
    aggregate = ctx.model.aggregates.get(request.path_params["aggregate_id"])
    if aggregate is None or aggregate.region != region:
        raise LabError(f"Aggregate {request.path_params['aggregate_id']} could not be found.", 404,
                       "AggregateNotFound")
    return json_response({"aggregate": aggregate_dict(aggregate, mv)})


def list_services(ctx: ApiContext, request: Request, mv: MicroVersion, region: str) -> Response:
    query = request.query_params
    return json_response({"services": [
        service_dict(s, mv) for s in ctx.model.services.values()
        if s.region == region and query.get("host", s.host) == s.host and query.get("binary", s.binary) == s.binary]})


def list_flavors(ctx: ApiContext, request: Request, mv: MicroVersion, region: str, detail: bool) -> Response:
    compute = f"{base_url(request)}/{region}/compute"
    flavors = []
    for f in ctx.model.flavors.values():
        body = {"id": f.id, "name": f.name, "links": [{"rel": "self", "href": f"{compute}/v2.1/flavors/{f.id}"}]}
        if detail:
            body.update({"vcpus": f.vcpus, "ram": f.ram, "disk": f.disk, "OS-FLV-EXT-DATA:ephemeral": 0,
                         "swap": 0, "rxtx_factor": 1.0, "os-flavor-access:is_public": True})
        flavors.append(body)
    return json_response({"flavors": flavors})


def _with(handler, **fixed):
    return endpoint(lambda ctx, request, mv, region: handler(ctx, request, mv, region, **fixed))


PREFIX = "/{region}/compute/v2.1"
ROUTES = [
    Route("/{region}/compute", versions, methods=["GET"]),
    Route("/{region}/compute/", versions, methods=["GET"]),
    Route(PREFIX, version, methods=["GET"]),
    Route(PREFIX + "/", version, methods=["GET"]),
    Route(PREFIX + "/servers", _with(list_servers, detail=False), methods=["GET"]),
    Route(PREFIX + "/servers/detail", _with(list_servers, detail=True), methods=["GET"]),
    Route(PREFIX + "/servers/{server_id}", endpoint(show_server), methods=["GET"]),
    Route(PREFIX + "/os-hypervisors", _with(list_hypervisors, detail=False), methods=["GET"]),
    Route(PREFIX + "/os-hypervisors/detail", _with(list_hypervisors, detail=True), methods=["GET"]),
    Route(PREFIX + "/os-hypervisors/{pattern}/servers", _with(hypervisor_servers, servers=True), methods=["GET"]),
    Route(PREFIX + "/os-hypervisors/{pattern}/search", _with(hypervisor_servers, servers=False), methods=["GET"]),
    Route(PREFIX + "/os-hypervisors/{pattern}", endpoint(show_hypervisor), methods=["GET"]),
    Route(PREFIX + "/os-availability-zone", _with(list_zones, detail=False), methods=["GET"]),
    Route(PREFIX + "/os-availability-zone/detail", _with(list_zones, detail=True), methods=["GET"]),
    Route(PREFIX + "/os-aggregates", endpoint(list_aggregates), methods=["GET"]),
    Route(PREFIX + "/os-aggregates/{aggregate_id:int}", endpoint(show_aggregate), methods=["GET"]),
    Route(PREFIX + "/os-services", endpoint(list_services), methods=["GET"]),
    Route(PREFIX + "/flavors", _with(list_flavors, detail=False), methods=["GET"]),
    Route(PREFIX + "/flavors/detail", _with(list_flavors, detail=True), methods=["GET"]),
]
