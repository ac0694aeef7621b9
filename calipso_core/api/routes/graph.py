"""``/graph``: the clique of an object as nodes and links, for drawing."""

from __future__ import annotations

from calipso_core import graph
from calipso_core.api.listing import require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import INTEGER, NULLABLE_STRING, STRING, STRINGS, obj
from calipso_core.api.validation import ENV_NAME, Param
from calipso_core.errors import NotFound
from calipso_core.types import Document


def get_graph(call: Call) -> Document:
    """The environment is looked up only when nothing is found (400 when it does not exist)."""
    try:
        with call.engine.connect() as conn:
            return graph.clique_graph(conn, call.params["env_name"], call.params["focal_point"])
    except NotFound:
        require_environment(call.engine, call.params["env_name"])
        raise


NODE = obj(("id", "type", "name", "status"), id=STRING, type=STRING, name=STRING, status=NULLABLE_STRING)
LINK = obj(("id", "source", "target", "link_type"), id=INTEGER, source=STRING, target=STRING, link_type=STRING,
           link_name=NULLABLE_STRING, state=NULLABLE_STRING, status=NULLABLE_STRING)
GRAPH = obj(("nodes", "links"), focal_point=STRING, cliques=STRINGS,
            nodes={"type": "array", "items": NODE}, links={"type": "array", "items": LINK})

OPERATIONS = [
    Operation("GET", "/graph", get_graph, "The clique graph of an object",
              params=(ENV_NAME, Param("focal_point", required=True, description="an object id")),
              response=GRAPH, errors=(400, 404),
              description="The object's own clique when it is a focal point, else every clique containing it."),
]
