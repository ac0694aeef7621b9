"""``/inventory``: one object by id, or a page of objects filtered by place in the tree
and type; with ``as_of``, the inventory as it was at that moment (from history)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, bindparam, func, select

from calipso_core.api.errors import bad_request, not_found
from calipso_core.api.listing import project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, listing_or_document, obj
from calipso_core.api.validation import ENV_NAME, PAGING, Param
from calipso_core.store import as_of
from calipso_core.store.tables import inventory
from calipso_core.types import Document

#: The fields of an object in a list (columns: a page is read without the documents).
LIST_FIELDS = ("id", "type", "name", "name_path")
EXACT_FILTERS = ("id_path", "parent_id", "type")
#: The escape character of the ``LIKE`` pattern that finds objects below a path.
LIKE_ESCAPE = "/"


def _under(id_path: str, parent_path: str, sub_tree: bool) -> bool:
    """Whether ``id_path`` is a child (or, with ``sub_tree``, any descendant) of ``parent_path``."""
    prefix = parent_path.rstrip("/") + "/"
    return id_path.startswith(prefix) and (sub_tree or "/" not in id_path[len(prefix):])


def _page(docs: list[Document]) -> dict:
    return {"objects": [project(doc, LIST_FIELDS) for doc in docs]}


def _from_history(call: Call) -> Document | dict:
    params = call.params
    match = {key: params[key] for key in (*EXACT_FILTERS, "id") if key in params}
    docs = as_of(call.engine, params["env_name"], params["as_of"], "object", match)
    docs = [{k: v for k, v in doc.items() if v is not None} for doc in docs]
    if "id" in params:
        if not docs:
            raise not_found(f"no object {params['id']!r} in environment {params['env_name']!r} "
                            f"at {params['as_of'].isoformat()}")
        return docs[0]
    if "parent_path" in params:
        docs = [d for d in docs if _under(d.get("id_path", ""), params["parent_path"], params["sub_tree"])]
    docs.sort(key=lambda doc: doc["id"])
    return _page(docs[call.offset: call.offset + call.limit])


def get_inventory(call: Call) -> Document | dict:
    """The environment is looked up only to explain an empty answer (400 when it does
    not exist): an object found is in an environment that exists."""
    params = call.params
    environment = params["env_name"]
    if params["sub_tree"] and "parent_path" not in params:
        raise bad_request("sub_tree", "only meaningful with parent_path")
    if "as_of" in params:
        require_environment(call.engine, environment)
        return _from_history(call)
    if "id" in params:
        with call.engine.connect() as conn:
            doc = call.inventory.get(environment, params["id"], conn)
        if doc is None:
            require_environment(call.engine, environment)
            raise not_found(f"no object {params['id']!r} in environment {environment!r}")
        return doc
    page = _list_page(call)
    if not page["objects"]:
        require_environment(call.engine, environment)
    return page


@cache  # built once per shape, with bound parameters: building one per request costs more than the answer
def list_query(filters: tuple[str, ...], below_path: bool, sub_tree: bool) -> Select:
    """A page of objects in the environment ``env_name`` whose ``filters`` (exact
    filters) equal the parameters of their names; ``below_path``: whose ``id_path``
    matches the pattern ``below`` (only children, past ``depth`` characters, unless
    ``sub_tree``). Pages are ``limit`` objects from ``offset``, ordered by id."""
    query = select(*(inventory.c[key] for key in LIST_FIELDS)).where(inventory.c.environment == bindparam("env_name"))
    for key in filters:
        query = query.where(inventory.c[key] == bindparam(key))
    if below_path:
        query = query.where(inventory.c.id_path.like(bindparam("below"), escape=LIKE_ESCAPE))
        if not sub_tree:
            query = query.where(func.strpos(func.substr(inventory.c.id_path, bindparam("depth")), "/") == 0)
    return query.order_by(inventory.c.id).limit(bindparam("limit")).offset(bindparam("offset"))


def _like_prefix(prefix: str) -> str:
    """The ``LIKE`` pattern (escaped with ``LIKE_ESCAPE``) of the texts that start with ``prefix``."""
    for special in (LIKE_ESCAPE, "%", "_"):
        prefix = prefix.replace(special, LIKE_ESCAPE + special)
    return prefix + "%"


def _list_page(call: Call) -> dict:
    params = call.params
    filters = tuple(key for key in EXACT_FILTERS if key in params)
    values = {"env_name": params["env_name"], "limit": call.limit, "offset": call.offset,
              **{key: params[key] for key in filters}}
    if below_path := "parent_path" in params:
        prefix = params["parent_path"].rstrip("/") + "/"
        values |= {"below": _like_prefix(prefix), "depth": len(prefix) + 1}
    query = list_query(filters, below_path, params["sub_tree"])
    with call.engine.connect() as conn:
        rows = conn.execute(query, values).all()
    return {"objects": [{key: value for key, value in zip(LIST_FIELDS, row, strict=True) if value is not None}
                        for row in rows]}


PARAMS = (
    ENV_NAME,
    Param("id", description="an object's id: answers the whole object"),
    Param("id_path", description="objects with exactly this id_path"),
    Param("parent_id", description="the children of this object"),
    Param("parent_path", description="objects below this id_path (children only, unless sub_tree)"),
    Param("sub_tree", "boolean", default=False, description="with parent_path: every descendant"),
    Param("type", constant="object_types", description="objects of this type"),
    Param("as_of", "datetime", description="answer from history: the inventory as it was at this time"),
    *PAGING,
)

OBJECT_ITEM = obj(("id", "name"), id=STRING, type=STRING, name=STRING, name_path=STRING)

OPERATIONS = [
    Operation("GET", "/inventory", get_inventory, "Objects of an environment", params=PARAMS,
              response=listing_or_document("objects", OBJECT_ITEM), errors=(400, 404)),
]
