"""``/aggregates``: counts for dashboards: objects per type in an environment, messages
per level and environment, values per constants list."""

from __future__ import annotations

from sqlalchemy import func, select

from calipso_core.api.errors import bad_request
from calipso_core.api.listing import require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, obj
from calipso_core.api.validation import Param
from calipso_core.store.tables import constants, inventory, messages

NO_ENVIRONMENT = "(none)"
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}


def _counts(conn, column, *conditions) -> dict[str, int]:
    query = select(column, func.count()).where(*conditions).group_by(column).order_by(column)
    return {(key if key is not None else NO_ENVIRONMENT): count for key, count in conn.execute(query)}


def get_aggregates(call: Call) -> dict:
    kind = call.params["type"]
    environment = call.params.get("env_name")
    if environment is not None:
        require_environment(call.engine, environment)
    with call.engine.connect() as conn:
        if kind == "environment":
            if environment is None:
                raise bad_request("env_name", "required with type=environment")
            types = _counts(conn, inventory.c.type, inventory.c.environment == environment)
            return {"type": kind, "env_name": environment, "aggregates": {"object_types": types}}
        if kind == "message":
            where = [messages.c.environment == environment] if environment else []
            return {"type": kind, "aggregates": {"levels": _counts(conn, messages.c.level, *where),
                                                 "environments": _counts(conn, messages.c.environment, *where)}}
        lengths = select(constants.c.name, func.jsonb_array_length(func.coalesce(
            constants.c.doc["data"], func.jsonb_build_array()))).order_by(constants.c.name)
        return {"type": kind, "aggregates": {"names": dict(conn.execute(lengths).all())}}


PARAMS = (
    Param("type", required=True, choices=("environment", "message", "constant"), description="what to count"),
    Param("env_name", aliases=("environment",), description="required with type=environment"),
)

AGGREGATES = obj(("type", "aggregates"), type=STRING, env_name=STRING, aggregates={
    "type": "object", "additionalProperties": COUNTS})

OPERATIONS = [
    Operation("GET", "/aggregates", get_aggregates, "Counts of objects, messages or constants", params=PARAMS,
              response=AGGREGATES),
]
