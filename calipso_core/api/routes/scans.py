"""``/scans``: read the scans of an environment, and queue a new one (a ``pending``
row that the scan manager picks up)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import not_, select

from calipso_core.api.errors import bad_request, not_found
from calipso_core.api.listing import body_environment, fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import CREATED, INTEGER, STRING, TIME, listing_or_document, obj
from calipso_core.api.validation import ENV_NAME, INT32_MAX, PAGING, Param
from calipso_core.store.tables import scans
from calipso_core.types import Document

LIST_FIELDS = ("id", "environment", "status", "object_id", "submit_timestamp", "start_timestamp",
               "end_timestamp")
SCAN_ONLY_FLAGS = ("scan_only_inventory", "scan_only_links", "scan_only_cliques")
SCAN_OPTIONS = ("log_level", "clear", *SCAN_ONLY_FLAGS)
#: Connection tests share the scans table (see ``connection_tests``); scans exclude them.
CONNECTION_TEST = {"kind": "connection_test"}


def only_scans():
    """The condition that leaves out connection tests."""
    return not_(scans.c.doc.contains(CONNECTION_TEST))


def check_scan_only_flags(body: Document) -> None:
    """The original's rule: at most one ``scan_only_*`` key."""
    given = [flag for flag in SCAN_ONLY_FLAGS if flag in body]
    if len(given) > 1:
        raise bad_request("body." + given[1], f"give at most one of {', '.join(SCAN_ONLY_FLAGS)}")


def get_scans(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    query = select(scans).where(scans.c.environment == environment, only_scans())
    if "id" in params:
        found = fetch_page(call.engine, query.where(scans.c.id == params["id"]), 1, 0)
        if not found:
            raise not_found(f"no scan {params['id']} in environment {environment!r}")
        return found[0]
    if "base_object" in params:
        query = query.where(scans.c.object_id == params["base_object"])
    if "status" in params:
        query = query.where(scans.c.status == params["status"])
    query = query.order_by(scans.c.submit_timestamp.desc(), scans.c.id.desc())
    return {"scans": [project(doc, LIST_FIELDS) for doc in fetch_page(call.engine, query, call.limit, call.offset)]}


def post_scan(call: Call) -> dict:
    body = call.body
    environment = body_environment(call.engine, body)
    check_scan_only_flags(body)
    object_id = body.get("object_id")
    if object_id is not None and call.calipso.inventory.get(environment, object_id) is None:
        raise bad_request("body.object_id", f"no object {object_id!r} in environment {environment!r}")
    options = {key: body[key] for key in (*SCAN_OPTIONS, "inventory") if key in body}
    row = {"environment": environment, "status": body.get("status", "pending"), "object_id": object_id,
           "submit_timestamp": datetime.now(UTC), "doc": options}
    with call.engine.begin() as conn:
        scan_id = conn.scalar(scans.insert().values(row).returning(scans.c.id))
    return {"message": f"scan {scan_id} of environment {environment!r} queued as {row['status']}", "id": scan_id}


PARAMS = (
    ENV_NAME,
    Param("id", "integer", minimum=1, maximum=INT32_MAX, description="a scan's id: answers the whole scan"),
    Param("base_object", description="scans of this object"),
    Param("status", constant="scans_statuses"),
    *PAGING,
)

SCAN_ITEM = obj(("id", "environment", "status"), id=INTEGER, environment=STRING, status=STRING,
                object_id=STRING, submit_timestamp=TIME)

OPERATIONS = [
    Operation("GET", "/scans", get_scans, "Scans of an environment, newest first", params=PARAMS,
              response=listing_or_document("scans", SCAN_ITEM), errors=(400, 404)),
    Operation("POST", "/scans", post_scan, "Queue a scan", body="scan", status=201, response=CREATED,
              writes=True),
]
