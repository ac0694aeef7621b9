"""``/scheduled_scans``: scans repeated at a frequency (yearly ... hourly)."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core.api.errors import not_found
from calipso_core.api.listing import body_environment, fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import CREATED, INTEGER, STRING, TIME, listing_or_document, obj
from calipso_core.api.routes.scans import SCAN_OPTIONS, check_scan_only_flags
from calipso_core.api.validation import ENV_NAME, INT32_MAX, PAGING, Param, parse_datetime
from calipso_core.store.tables import scheduled_scans
from calipso_core.types import Document

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
LIST_FIELDS = ("id", "environment", "freq", "scheduled_timestamp")


def get_scheduled_scans(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    query = select(scheduled_scans).where(scheduled_scans.c.environment == environment)
    if "id" in params:
        found = fetch_page(call.engine, query.where(scheduled_scans.c.id == params["id"]), 1, 0)
        if not found:
            raise not_found(f"no scheduled scan {params['id']} in environment {environment!r}")
        return found[0]
    if "freq" in params:
        query = query.where(scheduled_scans.c.freq == params["freq"])
    docs = fetch_page(call.engine, query.order_by(scheduled_scans.c.id), call.limit, call.offset)
    return {"scheduled_scans": [project(doc, LIST_FIELDS) for doc in docs]}


def post_scheduled_scan(call: Call) -> dict:
    body = call.body
    environment = body_environment(call.engine, body)
    check_scan_only_flags(body)
    submitted = parse_datetime("body.submit_timestamp", body["submit_timestamp"])
    scheduled = None
    if "scheduled_timestamp" in body:
        scheduled = parse_datetime("body.scheduled_timestamp", body["scheduled_timestamp"])
    doc = {key: body[key] for key in SCAN_OPTIONS if key in body}
    doc["submit_timestamp"] = submitted.isoformat()
    row = {"environment": environment, "freq": body["freq"], "scheduled_timestamp": scheduled, "doc": doc}
    with call.engine.begin() as conn:
        new_id = conn.scalar(scheduled_scans.insert().values(row).returning(scheduled_scans.c.id))
    return {"message": f"scan of environment {environment!r} scheduled {body['freq']}", "id": new_id}


PARAMS = (
    ENV_NAME,
    Param("id", "integer", minimum=1, maximum=INT32_MAX, description="one scheduled scan, whole"),
    Param("freq", choices=FREQUENCIES),
    *PAGING,
)

SCHEDULED_ITEM = obj(("id", "environment", "freq"), id=INTEGER, environment=STRING, freq=STRING,
                     scheduled_timestamp=TIME)

OPERATIONS = [
    Operation("GET", "/scheduled_scans", get_scheduled_scans, "Scheduled scans of an environment",
              params=PARAMS, response=listing_or_document("scheduled_scans", SCHEDULED_ITEM), errors=(400, 404)),
    Operation("POST", "/scheduled_scans", post_scheduled_scan, "Schedule a scan", body="scheduled_scan",
              status=201, response=CREATED, writes=True),
]
