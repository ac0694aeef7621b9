"""``/constants``: a named list of values (object types, link types, statuses ...)."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core.api.errors import not_found
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, obj
from calipso_core.api.validation import Param
from calipso_core.store.tables import constants
from calipso_core.types import Document


def get_constant(call: Call) -> Document:
    name = call.params["name"]
    with call.engine.connect() as conn:
        doc = conn.scalar(select(constants.c.doc).where(constants.c.name == name))
        if doc is None:
            names = list(conn.scalars(select(constants.c.name).order_by(constants.c.name)))
            raise not_found(f"no constants named {name!r} (known: {', '.join(names) or 'none'})")
    return {"name": name, **doc}


CONSTANT = obj(("name", "data"), name=STRING, data={"type": "array", "items": obj(
    ("value",), value={"type": ["string", "number", "boolean"]}, label=STRING)})

OPERATIONS = [
    Operation("GET", "/constants", get_constant, "One list of constants",
              params=(Param("name", required=True, description="e.g. link_types"),),
              response=CONSTANT, errors=(400, 404)),
]
