"""``/impact``: what depends on an object, grouped by type, each with the path of
links through which it depends on it."""

from __future__ import annotations

from calipso_core import graph
from calipso_core.api.listing import require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import NULLABLE_STRING, STRING, STRINGS, obj
from calipso_core.api.validation import ENV_NAME, Param
from calipso_core.types import Document


def get_impact(call: Call) -> Document:
    require_environment(call.engine, call.params["env_name"])
    return graph.impact(call.engine, call.params["env_name"], call.params["id"])


PATH_LINK = obj(("link_type", "source_id", "target_id"), link_type=STRING, link_name=NULLABLE_STRING,
                source_id=STRING, target_id=STRING)
DEPENDENT = obj(("id", "type", "name"), id=STRING, type=STRING, name=STRING, status=NULLABLE_STRING,
                host=NULLABLE_STRING, path={"type": "array", "items": PATH_LINK},
                through={**STRING, "description": "the object (the one asked about, or one in its subtree) "
                                                  "from which the path leads to the dependent"},
                via={**STRINGS, "description": "for projects and hosts: the dependents that reach them"})
IMPACT = obj(("object", "impact", "counts"),
             object=obj(("id", "type", "name"), id=STRING, type=STRING, name=STRING),
             impact={"type": "object", "required": list(graph.IMPACT_GROUPS),
                     "additionalProperties": {"type": "array", "items": DEPENDENT}},
             counts={"type": "object", "additionalProperties": {"type": "integer"}})

OPERATIONS = [
    Operation("GET", "/impact", get_impact, "What depends on an object",
              params=(ENV_NAME, Param("id", required=True, description="the object's id")),
              response=IMPACT, errors=(400, 404)),
]
