"""``/links``: one link by id, or a page of links filtered by their fields and by
``attributes:<name>=<value>``."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core.api.errors import not_found
from calipso_core.api.listing import fetch_one, fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import INTEGER, STRING, listing_or_document, obj
from calipso_core.api.validation import ENV_NAME, INT64_MAX, PAGING, Param
from calipso_core.store.tables import links
from calipso_core.types import Document

LIST_FIELDS = ("id", "link_type", "link_name", "source_id", "target_id", "state", "environment", "host")
COLUMN_FILTERS = ("host", "link_type", "link_name", "source_id", "target_id", "state")


def get_links(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    query = select(links).where(links.c.environment == environment)
    if "id" in params:
        doc = fetch_one(call.engine, query.where(links.c.id == params["id"]))
        if doc is None:
            raise not_found(f"no link {params['id']} in environment {environment!r}")
        return doc
    for key in COLUMN_FILTERS:
        if key in params:
            query = query.where(links.c[key] == params[key])
    if "attributes" in params:
        query = query.where(links.c.doc.contains({"attributes": params["attributes"]}))
    docs = fetch_page(call.engine, query.order_by(links.c.id), call.limit, call.offset)
    return {"links": [project(doc, LIST_FIELDS) for doc in docs]}


PARAMS = (
    ENV_NAME,
    Param("id", "integer", minimum=1, maximum=INT64_MAX, description="a link's id: answers the whole link"),
    Param("host", description="links on this host"),
    Param("link_type", constant="link_types", description="links of this type, e.g. instance-vnic"),
    Param("link_name"),
    Param("source_id", description="links from this object"),
    Param("target_id", description="links to this object"),
    Param("state", constant="link_states", description="up or down"),
    Param("attributes", prefix=True,
          description="attributes:<name>=<value> (or attributes[<name>]=<value>): links whose attribute "
                      "<name> has this value, e.g. attributes:network=<network id>"),
    *PAGING,
)

LINK_ITEM = obj(("id", "link_type", "source_id", "target_id"), id=INTEGER, link_type=STRING, link_name=STRING,
                source_id=STRING, target_id=STRING, state=STRING, environment=STRING, host=STRING)

OPERATIONS = [
    Operation("GET", "/links", get_links, "Links of an environment", params=PARAMS,
              response=listing_or_document("links", LINK_ITEM), errors=(400, 404)),
]
