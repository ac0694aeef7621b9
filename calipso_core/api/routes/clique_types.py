"""``/clique_types``: read the clique types (the plugins' defaults and the users'), and
add one with the original's rules: scoped to one environment or to a configuration,
one type per environment and focal point type, no two types for one configuration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from calipso_core.api.errors import bad_request, conflict, not_found
from calipso_core.api.listing import body_environment, check_known
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import BOOLEAN, CREATED, INTEGER, STRING, STRINGS, listing_or_document, obj
from calipso_core.api.validation import INT32_MAX, PAGING, Param
from calipso_core.store.tables import clique_types
from calipso_core.types import Document

LIST_FIELDS = ("id", "name", "focal_point_type", "link_types", "environment", "distribution",
               "distribution_version", "mechanism_drivers", "type_drivers", "use_implicit_links")
CONFIGURATION = ("distribution", "distribution_version", "mechanism_drivers", "type_drivers")
RESERVED_ENVIRONMENT = "ANY"


def _document(row) -> Document:
    return {**row.doc, "id": row.id, "origin": row.origin}


def _filters(params: dict) -> Document:
    match: Document = {}
    for key in ("distribution", "distribution_version", "focal_point_type", "name"):
        if key in params:
            match[key] = params[key]
    if "env_name" in params:
        match["environment"] = params["env_name"]
    for key in ("mechanism_drivers", "type_drivers"):
        if key in params:
            match[key] = [params[key]]
    if "link_type" in params:
        match["link_types"] = params["link_type"]
    return match


def get_clique_types(call: Call) -> Document | dict:
    params = call.params
    if "distribution_version" in params and "distribution" not in params:
        raise bad_request("distribution_version", "needs distribution too")
    query = select(clique_types)
    if "id" in params:
        query = query.where(clique_types.c.id == params["id"])
    match = _filters(params)
    if match:
        query = query.where(clique_types.c.doc.contains(match))
    with call.engine.connect() as conn:
        rows = conn.execute(query.order_by(clique_types.c.id).limit(call.limit).offset(call.offset)).all()
    if "id" in params:
        if not rows:
            raise not_found(f"no clique type {params['id']}")
        return _document(rows[0])
    return {"clique_types": [{k: v for k, v in _document(row).items() if k in LIST_FIELDS} for row in rows]}


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def _new_document(call: Call) -> Document:
    """The stored form of the posted clique type, after the original's checks."""
    body = dict(call.body)
    if RESERVED_ENVIRONMENT in (body.get("env_name"), body.get("environment")):
        raise bad_request("body.environment", f"{RESERVED_ENVIRONMENT!r} is reserved for the default clique types")
    environment = body_environment(call.engine, body, required=False)
    configured = [key for key in CONFIGURATION if key in body]
    if bool(environment) == bool(configured):
        raise bad_request("body", "give either env_name or a configuration (distribution and "
                                  "distribution_version, mechanism_drivers, type_drivers), not both")
    if "distribution_version" in body and "distribution" not in body:
        raise bad_request("body.distribution_version", "needs distribution too")
    plugins = call.calipso.plugins
    check_known(call.engine, plugins, "body.focal_point_type", [body["focal_point_type"]], "object_types")
    check_known(call.engine, plugins, "body.link_types", body["link_types"], "link_types")
    doc = {"name": body["name"], "focal_point_type": body["focal_point_type"], "link_types": body["link_types"],
           "environment": environment or "", "use_implicit_links": body.get("use_implicit_links", False)}
    for key in ("mechanism_drivers", "type_drivers"):
        if key in body:
            doc[key] = _as_list(body[key])
            check_known(call.engine, plugins, f"body.{key}", doc[key], key)
    for key in ("distribution", "distribution_version"):
        if key in body:
            doc[key] = body[key]
    return doc


def _check_unique(call: Call, doc: Document) -> None:
    scope = {"focal_point_type": doc["focal_point_type"], "environment": doc["environment"]}
    if not doc["environment"]:
        scope.update({key: doc.get(key) for key in CONFIGURATION})
    query = select(clique_types.c.id, clique_types.c.doc).where(
        clique_types.c.focal_point_type == doc["focal_point_type"])
    with call.engine.connect() as conn:
        for row in conn.execute(query):
            if all(row.doc.get(key) == value for key, value in scope.items()):
                where = f"environment {doc['environment']!r}" if doc["environment"] else "this configuration"
                raise conflict(f"clique type {row.id} already covers focal point type "
                               f"{doc['focal_point_type']!r} in {where}")


def post_clique_type(call: Call) -> dict:
    doc = _new_document(call)
    _check_unique(call, doc)
    stmt = insert(clique_types).values(
        name=doc["name"], focal_point_type=doc["focal_point_type"], environment=doc["environment"],
        origin="user", doc=doc).on_conflict_do_nothing(constraint="uq_clique_types_name").returning(clique_types.c.id)
    with call.engine.begin() as conn:
        new_id = conn.scalar(stmt)
    if new_id is None:
        raise conflict(f"a clique type named {doc['name']!r} exists already for this scope")
    return {"message": f"clique type {doc['name']!r} created", "id": new_id}


PARAMS = (
    Param("env_name", aliases=("environment",), description="clique types of this environment (ANY: defaults)"),
    Param("id", "integer", minimum=1, maximum=INT32_MAX, description="a clique type's id: answers it whole"),
    Param("distribution"),
    Param("distribution_version", description="needs distribution"),
    Param("mechanism_drivers", constant="mechanism_drivers"),
    Param("type_drivers", constant="type_drivers"),
    Param("focal_point_type", constant="object_types"),
    Param("link_type", many=True, constant="link_types", description="types walking all these link types"),
    Param("name"),
    *PAGING,
)

CLIQUE_TYPE_ITEM = obj(("id", "name", "focal_point_type", "link_types"), id=INTEGER, name=STRING,
                       focal_point_type=STRING, link_types=STRINGS, environment=STRING,
                       use_implicit_links=BOOLEAN)

OPERATIONS = [
    Operation("GET", "/clique_types", get_clique_types, "Clique types", params=PARAMS,
              response=listing_or_document("clique_types", CLIQUE_TYPE_ITEM), errors=(400, 404)),
    Operation("POST", "/clique_types", post_clique_type, "Add a clique type", body="clique_type", status=201,
              response=CREATED, writes=True, errors=(400, 409)),
]
