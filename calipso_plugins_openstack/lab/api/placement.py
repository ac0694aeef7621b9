"""The lab's Placement API for one region at ``/<region>/placement``: version discovery and
the compute hosts as resource providers, with their inventories and usages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calipso_core.lab.ids import LabError
from calipso_core.lab.model import LabModel
from calipso_core.lab.records import Host
from calipso_plugins_openstack.lab.api.common import (
    ApiContext,
    base_url,
    error_response,
    json_response,
    lab_error_response,
)

MAX_VERSION = "1.39"


async def root(request: Request) -> Response:
    return json_response({"versions": [{"id": "v1.0", "max_version": MAX_VERSION, "min_version": "1.0",
                                        "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]})


def endpoint(handler):
    async def run(request: Request) -> Response:
        ctx: ApiContext = request.app.state.ctx
        if ctx.authenticated(request) is None:
            return error_response("placement", 401)
        try:
            region = ctx.region(request)
            with ctx.model.lock:
                response = handler(ctx, request, region)
        except LabError as error:
            return lab_error_response("placement", error)
        response.headers["OpenStack-API-Version"] = f"placement {MAX_VERSION}"
        return response

    return run


def _computes(model: LabModel, region: str) -> list[Host]:
    return [h for h in model.hosts.values() if h.region == region and h.hypervisor is not None]


def _provider(host: Host, base: str) -> dict:
    uuid = host.hypervisor.id
    here = f"{base}/{host.region}/placement/resource_providers/{uuid}"
    return {"uuid": uuid, "name": host.name, "generation": 1, "parent_provider_uuid": None,
            "root_provider_uuid": uuid,
            "links": [{"rel": "self", "href": here}, {"rel": "inventories", "href": f"{here}/inventories"},
                      {"rel": "usages", "href": f"{here}/usages"}]}


def _find(ctx: ApiContext, request: Request, region: str) -> Host:
    wanted = request.path_params["uuid"]
    for host in _computes(ctx.model, region):
        if host.hypervisor.id == wanted:
            return host
    raise LabError(f"No resource provider with uuid {wanted} found", 404, "NotFound")


def list_providers(ctx: ApiContext, request: Request, region: str) -> Response:
    name = request.query_params.get("name")
    return json_response({"resource_providers": [_provider(h, base_url(request)) for h in _computes(ctx.model, region)
                                                 if name in (None, h.name)]})


def show_provider(ctx: ApiContext, request: Request, region: str) -> Response:
    return json_response(_provider(_find(ctx, request, region), base_url(request)))


def inventories(ctx: ApiContext, request: Request, region: str) -> Response:
    hv = _find(ctx, request, region).hypervisor
    totals = {"VCPU": (hv.vcpus, 16.0), "MEMORY_MB": (hv.memory_mb, 1.5), "DISK_GB": (hv.local_gb, 1.0)}
    return json_response({"resource_provider_generation": 1, "inventories": {
        rc: {"total": total, "reserved": 512 if rc == "MEMORY_MB" else 0, "min_unit": 1, "max_unit": total,
             "step_size": 1, "allocation_ratio": ratio} for rc, (total, ratio) in totals.items()}})


def usages(ctx: ApiContext, request: Request, region: str) -> Response:
    host = _find(ctx, request, region)
    flavors = [ctx.model.flavors[i.flavor] for i in ctx.model.host_instances(host.name)]
    return json_response({"resource_provider_generation": 1, "usages": {
        "VCPU": sum(f.vcpus for f in flavors), "MEMORY_MB": sum(f.ram for f in flavors),
        "DISK_GB": sum(f.disk for f in flavors)}})


PREFIX = "/{region}/placement"
ROUTES = [
    Route(PREFIX, root, methods=["GET"]),
    Route(PREFIX + "/", root, methods=["GET"]),
    Route(PREFIX + "/resource_providers", endpoint(list_providers), methods=["GET"]),
    Route(PREFIX + "/resource_providers/{uuid}", endpoint(show_provider), methods=["GET"]),
    Route(PREFIX + "/resource_providers/{uuid}/inventories", endpoint(inventories), methods=["GET"]),
    Route(PREFIX + "/resource_providers/{uuid}/usages", endpoint(usages), methods=["GET"]),
]
