"""``/diff``: what was added, removed and changed in an environment between two times."""

from __future__ import annotations

from calipso_core.api.errors import bad_request
from calipso_core.api.listing import require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, TIME, obj
from calipso_core.api.validation import ENV_NAME, Param
from calipso_core.store import diff
from calipso_core.types import Document


def get_diff(call: Call) -> Document:
    params = call.params
    require_environment(call.engine, params["env_name"])
    if params["from"] > params["to"]:
        raise bad_request("from", "after to")
    changes = diff(call.engine, params["env_name"], params["from"], params["to"])
    return {"env_name": params["env_name"], "from": params["from"], "to": params["to"], **changes}


CHANGES = obj(("added", "removed", "changed"), added={"type": "array", "items": {"type": "object"}},
              removed={"type": "array", "items": {"type": "object"}},
              changed={"type": "array", "items": obj(("key", "changes"), key=STRING, changes={"type": "object"})})
DIFF = obj(("objects", "links"), env_name=STRING, objects=CHANGES, links=CHANGES, **{"from": TIME, "to": TIME})

OPERATIONS = [
    Operation("GET", "/diff", get_diff, "Changes between two times",
              params=(ENV_NAME, Param("from", "datetime", required=True, description="ISO 8601 time"),
                      Param("to", "datetime", required=True, description="ISO 8601 time")),
              response=DIFF),
]
