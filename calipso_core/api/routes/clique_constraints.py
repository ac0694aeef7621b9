"""``/clique_constraints``: the attributes (e.g. ``network``) whose value must match
along a clique of a focal point type."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core.api.errors import not_found
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import INTEGER, STRING, STRINGS, listing_or_document, obj
from calipso_core.api.validation import INT32_MAX, PAGING, Param
from calipso_core.store.tables import clique_constraints
from calipso_core.types import Document


def _document(row) -> Document:
    return {"focal_point_type": row.focal_point_type, **row.doc, "id": row.id, "environment": row.environment}


def get_clique_constraints(call: Call) -> Document | dict:
    params = call.params
    query = select(clique_constraints)
    if "id" in params:
        query = query.where(clique_constraints.c.id == params["id"])
    if "focal_point_type" in params:
        query = query.where(clique_constraints.c.focal_point_type == params["focal_point_type"])
    if "constraint" in params:
        query = query.where(clique_constraints.c.doc.contains({"constraints": params["constraint"]}))
    query = query.order_by(clique_constraints.c.id).limit(call.limit).offset(call.offset)
    with call.engine.connect() as conn:
        docs = [_document(row) for row in conn.execute(query)]
    if "id" in params:
        if not docs:
            raise not_found(f"no clique constraints {params['id']}")
        return docs[0]
    return {"clique_constraints": docs}


PARAMS = (
    Param("id", "integer", minimum=1, maximum=INT32_MAX, description="one constraints record"),
    Param("focal_point_type", constant="object_types"),
    Param("constraint", many=True, description="records holding all these constraints"),
    *PAGING,
)

CONSTRAINT_ITEM = obj(("id", "focal_point_type", "constraints"), id=INTEGER, focal_point_type=STRING,
                      constraints=STRINGS, environment=STRING)

OPERATIONS = [
    Operation("GET", "/clique_constraints", get_clique_constraints, "Clique constraints", params=PARAMS,
              response=listing_or_document("clique_constraints", CONSTRAINT_ITEM), errors=(400, 404)),
]
