"""The lab's Keystone v3: version discovery, password and token authentication, the
service catalog, and the identity lists (projects, regions, domains, users, services,
endpoints).

The catalog names, per region, public/internal/admin endpoints of ``identity``
(``<base>/v3``), ``compute`` (``<base>/<region>/compute/v2.1``), ``network``
(``<base>/<region>/network``) and ``placement`` (``<base>/<region>/placement``), all on
the address the client used.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calipso_core.lab.records import Project
from calipso_plugins_openstack.lab.api.common import (
    ApiContext,
    Token,
    base_url,
    error_response,
    json_response,
)

SERVICES = (("identity", "keystone"), ("compute", "nova"), ("network", "neutron"), ("placement", "placement"))
INTERFACES = ("public", "internal", "admin")


def version_document(base: str) -> dict:
    return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{base}/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}


def keystone_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def stable_id(*parts: str) -> str:
    """An id that depends only on its parts (services and endpoints are not in the model)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


def service_url(base: str, service_type: str, region: str) -> str:
    return {"identity": f"{base}/v3", "compute": f"{base}/{region}/compute/v2.1",
            "network": f"{base}/{region}/network", "placement": f"{base}/{region}/placement"}[service_type]


def catalog(ctx: ApiContext, base: str) -> list[dict]:
    entries = []
    for service_type, name in SERVICES:
        endpoints = [{"id": stable_id(service_type, region, interface), "interface": interface,
                      "region_id": region, "region": region, "url": service_url(base, service_type, region)}
                     for region in ctx.model.regions for interface in INTERFACES]
        entries.append({"type": service_type, "name": name, "id": stable_id(service_type), "endpoints": endpoints})
    return entries


def project_body(project: Project, base: str) -> dict:
    return {"id": project.id, "name": project.name, "domain_id": project.domain_id,
            "description": project.description, "enabled": project.enabled, "parent_id": project.domain_id,
            "is_domain": False, "tags": [], "options": {}, "links": {"self": f"{base}/v3/projects/{project.id}"}}


def token_body(ctx: ApiContext, token: Token, base: str) -> dict:
    model = ctx.model
    user = model.users[token.user_id]
    body = {
        "methods": list(token.methods), "expires_at": keystone_time(token.expires_at),
        "issued_at": keystone_time(token.issued_at), "audit_ids": [token.audit_id], "is_domain": False,
        "user": {"id": user.id, "name": user.name, "domain": {"id": "default", "name": "Default"},
                 "password_expires_at": None},
    }
    if token.project_id:
        project = model.projects[token.project_id]
        body["project"] = {"id": project.id, "name": project.name, "domain": {"id": "default", "name": "Default"}}
        body["roles"] = [{"id": stable_id("role", "admin"), "name": "admin"},
                         {"id": stable_id("role", "member"), "name": "member"},
                         {"id": stable_id("role", "reader"), "name": "reader"}]
        body["catalog"] = catalog(ctx, base)
    return {"token": body}


# --- authentication -------------------------------------------------------------------------------


class AuthFailed(Exception):
    """Carries the status and message of a refused authentication."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def _authenticate(ctx: ApiContext, auth: dict) -> tuple[str, tuple[str, ...]]:
    """The user id the ``identity`` part of an auth request proves, and its methods."""
    identity = auth.get("identity") or {}
    methods = tuple(identity.get("methods") or ())
    if "password" in methods:
        user = (identity.get("password") or {}).get("user") or {}
        domain = user.get("domain") or {}
        domain_ok = domain.get("name", "Default") == "Default" or domain.get("id") == "default"
        password_ok = secrets.compare_digest(str(user.get("password", "")), ctx.password)
        if user.get("name") != ctx.username or not domain_ok or not password_ok:
            raise AuthFailed(401, "The request you have made requires authentication.")
        return ctx.model.admin_user_id, methods
    if "token" in methods:
        existing = ctx.tokens.check((identity.get("token") or {}).get("id"), ctx.clock())
        if existing is None:
            raise AuthFailed(404, "Could not find token.")
        return existing.user_id, methods
    raise AuthFailed(400, "Expecting to find identity in auth. The server could not comply with the request since "
                          "it is either malformed or otherwise incorrect.")


def _scope(ctx: ApiContext, auth: dict) -> str | None:
    scope = auth.get("scope")
    if not scope:
        return None
    wanted = scope.get("project") or {}
    for project in ctx.model.projects.values():
        if wanted.get("id") == project.id or (wanted.get("name") == project.name and not wanted.get("id")):
            return project.id
    raise AuthFailed(401, f"Could not find project: {wanted.get('name') or wanted.get('id')}.")


async def issue_token(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    try:
        auth = (await request.json())["auth"]
        user_id, methods = _authenticate(ctx, auth)
        project_id = _scope(ctx, auth)
    except AuthFailed as failed:
        return error_response("keystone", failed.status, str(failed))
    except (ValueError, KeyError, TypeError, AttributeError):
        return error_response("keystone", 400, "Expecting to find auth in request body.")
    now = ctx.clock()
    token = Token(user_id, project_id, now, now + timedelta(seconds=ctx.token_lifetime_s), methods,
                  secrets.token_urlsafe(16))
    value = ctx.tokens.issue(token)
    with ctx.model.lock:
        body = token_body(ctx, token, base_url(request))
    return json_response(body, 201, {"X-Subject-Token": value})


async def check_token(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    if ctx.authenticated(request) is None:
        return error_response("keystone", 401)
    subject = ctx.tokens.check(request.headers.get("x-subject-token"), ctx.clock())
    if subject is None:
        return error_response("keystone", 404, "Could not find token.")
    if request.method == "DELETE":
        ctx.tokens.revoke(request.headers["x-subject-token"])
        return Response(status_code=204)
    with ctx.model.lock:
        body = token_body(ctx, subject, base_url(request))
    return json_response(body, 200, {"X-Subject-Token": request.headers["x-subject-token"]})


# --- discovery and lists ------------------------------------------------------------------------------


async def root(request: Request) -> Response:
    base = base_url(request)
    return json_response({"versions": {"values": [version_document(base)]}}, 300, {"Location": f"{base}/v3/"})


async def v3(request: Request) -> Response:
    return json_response({"version": version_document(base_url(request))})


def _listing(key: str, items: list[dict], request: Request) -> Response:
    return json_response({key: items, "links": {"self": str(request.url), "previous": None, "next": None}})


def _guarded(handler):
    async def endpoint(request: Request) -> Response:
        ctx: ApiContext = request.app.state.ctx
        if ctx.authenticated(request) is None:
            return error_response("keystone", 401)
        with ctx.model.lock:
            return handler(ctx, request, base_url(request))
    return endpoint


def list_projects(ctx: ApiContext, request: Request, base: str) -> Response:
    query = request.query_params
    projects = [project_body(p, base) for p in ctx.model.projects.values()
                if all(str(getattr(p, key)) == query[key] for key in ("name", "domain_id") if key in query)
                and ("enabled" not in query or str(p.enabled).lower() == query["enabled"].lower())]
    return _listing("projects", projects, request)


def show_project(ctx: ApiContext, request: Request, base: str) -> Response:
    project = ctx.model.projects.get(request.path_params["project_id"])
    if project is None:
        return error_response("keystone", 404, f"Could not find project: {request.path_params['project_id']}.")
    return json_response({"project": project_body(project, base)})


def _region_body(name: str, base: str, description: str) -> dict:
    return {"id": name, "description": description, "parent_region_id": None,
            "links": {"self": f"{base}/v3/regions/{name}"}}


def list_regions(ctx: ApiContext, request: Request, base: str) -> Response:
    return _listing("regions", [_region_body(r.name, base, r.description) for r in ctx.model.regions.values()],
                    request)


def show_region(ctx: ApiContext, request: Request, base: str) -> Response:
    region = ctx.model.regions.get(request.path_params["region_id"])
    if region is None:
        return error_response("keystone", 404, f"Could not find region: {request.path_params['region_id']}.")
    return json_response({"region": _region_body(region.name, base, region.description)})


def list_domains(ctx: ApiContext, request: Request, base: str) -> Response:
    return _listing("domains", [{"id": "default", "name": "Default", "description": "The default domain",
                                 "enabled": True, "tags": [], "options": {},
                                 "links": {"self": f"{base}/v3/domains/default"}}], request)


def list_users(ctx: ApiContext, request: Request, base: str) -> Response:
    return _listing("users", [{"id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": True,
                               "password_expires_at": None, "options": {},
                               "links": {"self": f"{base}/v3/users/{u.id}"}} for u in ctx.model.users.values()],
                    request)


def list_services(ctx: ApiContext, request: Request, base: str) -> Response:
    return _listing("services", [{"id": e["id"], "type": e["type"], "name": e["name"], "enabled": True,
                                  "links": {"self": f"{base}/v3/services/{e['id']}"}} for e in catalog(ctx, base)],
                    request)


def list_endpoints(ctx: ApiContext, request: Request, base: str) -> Response:
    endpoints = [{**e, "service_id": entry["id"], "enabled": True,
                  "links": {"self": f"{base}/v3/endpoints/{e['id']}"}}
                 for entry in catalog(ctx, base) for e in entry["endpoints"]]
    return _listing("endpoints", endpoints, request)


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/v3", v3, methods=["GET"]),
    Route("/v3/", v3, methods=["GET"]),
    Route("/v3/auth/tokens", issue_token, methods=["POST"]),
    Route("/v3/auth/tokens", check_token, methods=["GET", "HEAD", "DELETE"]),
    Route("/v3/projects", _guarded(list_projects), methods=["GET"]),
    Route("/v3/projects/{project_id}", _guarded(show_project), methods=["GET"]),
    Route("/v3/regions", _guarded(list_regions), methods=["GET"]),
    Route("/v3/regions/{region_id}", _guarded(show_region), methods=["GET"]),
    Route("/v3/domains", _guarded(list_domains), methods=["GET"]),
    Route("/v3/users", _guarded(list_users), methods=["GET"]),
    Route("/v3/services", _guarded(list_services), methods=["GET"]),
    Route("/v3/endpoints", _guarded(list_endpoints), methods=["GET"]),
]
