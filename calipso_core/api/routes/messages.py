"""``/messages``: what happened (cloud events, monitoring, Calipso's own notes), newest
first, filtered by source, level, related object and time."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core.api.errors import bad_request, not_found
from calipso_core.api.listing import fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import INTEGER, STRING, TIME, listing_or_document, obj
from calipso_core.api.validation import ENV_NAME, INT64_MAX, PAGING, Param
from calipso_core.store.tables import messages
from calipso_core.types import Document

LIST_FIELDS = ("id", "environment", "source_system", "level", "timestamp", "event_type", "related_object",
               "related_object_type")
COLUMN_FILTERS = ("source_system", "level", "related_object", "related_object_type")


def get_messages(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    query = select(messages).where(messages.c.environment == environment)
    if "id" in params:
        found = fetch_page(call.engine, query.where(messages.c.id == params["id"]), 1, 0)
        if not found:
            raise not_found(f"no message {params['id']} in environment {environment!r}")
        return found[0]
    if "start_time" in params and "end_time" in params and params["start_time"] > params["end_time"]:
        raise bad_request("start_time", "after end_time")
    for key in COLUMN_FILTERS:
        if key in params:
            query = query.where(messages.c[key] == params[key])
    if "start_time" in params:
        query = query.where(messages.c.timestamp >= params["start_time"])
    if "end_time" in params:
        query = query.where(messages.c.timestamp <= params["end_time"])
    query = query.order_by(messages.c.timestamp.desc(), messages.c.id.desc())
    docs = fetch_page(call.engine, query, call.limit, call.offset)
    return {"messages": [project(doc, LIST_FIELDS) for doc in docs]}


PARAMS = (
    ENV_NAME,
    Param("id", "integer", minimum=1, maximum=INT64_MAX, description="one message, whole"),
    Param("source_system", description="e.g. OpenStack, Sensu, Calipso"),
    Param("level", constant="messages_severity"),
    Param("related_object", description="messages about this object id"),
    Param("related_object_type", description="messages about objects of this type (link_<type> for links)"),
    Param("start_time", "datetime", description="messages at or after this time"),
    Param("end_time", "datetime", description="messages at or before this time"),
    *PAGING,
)

MESSAGE_ITEM = obj(("id", "source_system", "level"), id=INTEGER, environment=STRING, source_system=STRING,
                   level=STRING, timestamp=TIME)

OPERATIONS = [
    Operation("GET", "/messages", get_messages, "Messages of an environment, newest first", params=PARAMS,
              response=listing_or_document("messages", MESSAGE_ITEM), errors=(400, 404)),
]
