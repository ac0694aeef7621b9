"""``/search``: objects whose name or a searched attribute (MAC, IP addresses, host,
id ...) contains some text, ignoring case; best matches first."""

from __future__ import annotations

from calipso_core.api.listing import require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import NULLABLE_STRING, STRING, listing, obj
from calipso_core.api.validation import ENV_NAME, PAGING, Param
from calipso_core.graph import search_objects


def get_search(call: Call) -> dict:
    params = call.params
    require_environment(call.engine, params["env_name"])
    found = search_objects(call.engine, params["env_name"], params["q"], params.get("type"),
                           limit=call.limit, offset=call.offset)
    return {"objects": found}


PARAMS = (
    ENV_NAME,
    Param("q", required=True, aliases=("query",), description="the text to look for"),
    Param("type", constant="object_types", description="only objects of this type"),
    *PAGING,
)

FOUND = obj(("id", "type", "name", "matched"), id=STRING, type=STRING, name=STRING, name_path=STRING,
            host=NULLABLE_STRING, matched={**STRING, "description": "the field that matched"})

OPERATIONS = [
    Operation("GET", "/search", get_search, "Find objects by name or attribute", params=PARAMS,
              response=listing("objects", FOUND),
              description="Ranked: exact name, name prefix, name substring, then attribute matches."),
]
