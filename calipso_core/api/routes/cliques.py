"""``/cliques``: the clique of a focal point, or a page of cliques filtered by focal
point type, clique type and the links they contain. A clique's id is its focal
point's id (there is one clique per focal point and environment). A page lists
columns only: a network's clique is megabytes, of which a list shows nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import array

from calipso_core.api.errors import not_found
from calipso_core.api.listing import fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, listing_or_document, obj
from calipso_core.api.validation import ENV_NAME, INT64_MAX, PAGING, Param
from calipso_core.store.tables import cliques, links
from calipso_core.types import Document

COLUMNS = ("focal_point", "focal_point_type", "clique_type", "environment")
LIST_FIELDS = ("id", *COLUMNS)


def _with_id(doc: Document) -> Document:
    return {"id": doc["focal_point"], **doc}


def get_cliques(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    if "id" in params:
        query = select(cliques).where(cliques.c.environment == environment, cliques.c.focal_point == params["id"])
        found = fetch_page(call.engine, query, 1, 0)
        if not found:
            raise not_found(f"no clique with focal point {params['id']!r} in environment {environment!r}")
        return _with_id(found[0])
    query = select(*(cliques.c[key] for key in COLUMNS)).where(cliques.c.environment == environment)
    for key in ("focal_point", "focal_point_type", "clique_type"):
        if key in params:
            query = query.where(cliques.c[key] == params[key])
    if "link_type" in params:
        query = query.where(cliques.c.doc.contains({"links_detailed": [{"link_type": params["link_type"]}]}))
    if "link_id" in params:
        # A clique holds both ends of each of its links: found through the index of nodes.
        source = select(links.c.source_id).where(links.c.environment == environment, links.c.id == params["link_id"])
        query = query.where(cliques.c.nodes.contains(array([source.scalar_subquery()])),
                            cliques.c.doc.contains({"links": [params["link_id"]]}))
    docs = fetch_page(call.engine, query.order_by(cliques.c.focal_point), call.limit, call.offset)
    return {"cliques": [project(_with_id(doc), LIST_FIELDS) for doc in docs]}


PARAMS = (
    ENV_NAME,
    Param("id", description="a clique's id (its focal point's id): answers the whole clique"),
    Param("focal_point", description="the clique of this object"),
    Param("focal_point_type", constant="object_types", description="cliques of focal points of this type"),
    Param("clique_type", description="cliques built by this clique type"),
    Param("link_type", constant="link_types", description="cliques containing a link of this type"),
    Param("link_id", "integer", minimum=1, maximum=INT64_MAX, description="cliques containing this link"),
    *PAGING,
)

CLIQUE_ITEM = obj(("id", "focal_point_type"), id=STRING, focal_point=STRING, focal_point_type=STRING,
                  clique_type=STRING, environment=STRING)

OPERATIONS = [
    Operation("GET", "/cliques", get_cliques, "Cliques of an environment", params=PARAMS,
              response=listing_or_document("cliques", CLIQUE_ITEM), errors=(400, 404)),
]
