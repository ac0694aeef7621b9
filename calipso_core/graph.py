"""Questions about the graph of an environment: find objects by text, the clique graph
around an object, and what depends on an object (impact analysis).

Cliques are rows of the ``cliques`` table, one per focal point, whose document holds
``nodes`` (object ids), ``links`` (link row ids) and ``links_detailed`` (each link's
``id``, ``link_type``, ``source_id``, ``target_id``, ``link_name``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, String, Text, any_, bindparam, case, cast, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine

from calipso_core.errors import NotFound
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import cliques, inventory, links
from calipso_core.types import Document

#: Attributes that search looks into besides the name, as (label, SQL text).
_DOC = inventory.c.doc
SEARCH_ATTRIBUTES = (
    ("id", inventory.c.id),
    ("host", inventory.c.host),
    ("mac_address", _DOC["mac_address"].astext),
    ("ip_address", _DOC["ip_address"].astext),
    ("IP Address", _DOC["IP Address"].astext),
    ("IPv6 Address", _DOC["IPv6 Address"].astext),
    ("fixed_ips", cast(func.jsonb_path_query_array(_DOC, literal_column("'$.fixed_ips[*].ip_address'::jsonpath")),
                       Text)),
    ("cidrs", cast(_DOC["cidrs"], Text)),
    ("local_name", _DOC["local_name"].astext),
)
#: Groups an impact report always has, even when empty.
IMPACT_GROUPS = ("instances", "vservices", "networks", "projects", "hosts")


# -- search ----------------------------------------------------------------------------


def _matched_field(doc: Document, needle: str) -> str:
    if needle in str(doc.get("name", "")).lower():
        return "name"
    for label, _ in SEARCH_ATTRIBUTES:
        value = doc.get(label)
        if label == "fixed_ips" and isinstance(value, list):
            value = [ip.get("ip_address") for ip in value if isinstance(ip, dict)]
        if value is not None and needle in str(value).lower():
            return label
    return "name"


def search_objects(engine: Engine, environment: str, text: str, object_type: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[Document]:
    """Objects whose name or a searched attribute (MAC, IP addresses, host, id ...)
    contains ``text``, ignoring case; exact names first, then name prefixes, then other
    name matches, then attribute matches."""
    needle = text.lower()
    name = func.lower(inventory.c.name)
    rank = case((name == needle, 0), (name.startswith(needle, autoescape=True), 1),
                (name.contains(needle, autoescape=True), 2), else_=3)
    matches = [func.lower(expr).contains(needle, autoescape=True) for _, expr in SEARCH_ATTRIBUTES]
    query = select(inventory).where(inventory.c.environment == environment,
                                    or_(name.contains(needle, autoescape=True), *matches))
    if object_type:
        query = query.where(inventory.c.type == object_type)
    query = query.order_by(rank, name, inventory.c.id).limit(limit).offset(offset)
    with engine.connect() as conn:
        docs = [join_document(row) for row in conn.execute(query)]
    return [{"id": d["id"], "type": d["type"], "name": d["name"], "name_path": d["name_path"],
             "host": d.get("host"), "matched": _matched_field(d, needle)} for d in docs]


# -- cliques ---------------------------------------------------------------------------


def _cliques(conn: Connection, environment: str, condition) -> list[Document]:
    query = select(cliques).where(cliques.c.environment == environment, condition).order_by(cliques.c.focal_point)
    return [join_document(row) for row in conn.execute(query)]


def _objects(conn: Connection, environment: str, ids: Iterable[str]) -> dict[str, Document]:
    query = select(inventory).where(inventory.c.environment == environment, inventory.c.id.in_(list(ids)))
    return {doc["id"]: doc for doc in map(join_document, conn.execute(query))}


def _node(doc: Document) -> Document:
    return {"id": doc["id"], "type": doc["type"], "name": doc["name"], "status": doc.get("status")}


# The statements of ``clique_graph`` are built once, with bound parameters: building them
# per request cost more CPU than the database took to answer, on one of the API's
# busiest reads.

#: A clique's focal point, node ids and link row ids (not its whole document).
_CLIQUE = select(cliques.c.focal_point, cliques.c.nodes, cliques.c.doc["links"].label("links"))
#: The clique whose focal point is ``object_id``.
_OWN_CLIQUE = _CLIQUE.where(cliques.c.environment == bindparam("env_name"),
                            cliques.c.focal_point == bindparam("object_id"))
#: The cliques whose nodes include ``containing`` (``[object_id]``).
_CLIQUES_CONTAINING = _CLIQUE.where(cliques.c.environment == bindparam("env_name"),
                                    cliques.c.nodes.contains(bindparam("containing", type_=ARRAY(String)))
                                    ).order_by(cliques.c.focal_point)
#: ``_node`` of the objects ``node_ids``, without their whole documents (``status`` from
#: its column, else from the document).
_NODES = select(inventory.c.id, inventory.c.type, inventory.c.name, inventory.c.status,
                _DOC["status"].label("doc_status")).where(
    inventory.c.environment == bindparam("env_name"),
    inventory.c.id == any_(bindparam("node_ids", type_=ARRAY(String))))
#: The links ``link_ids``, by id.
_LINKS = select(links.c.id, links.c.source_id, links.c.target_id, links.c.link_type, links.c.link_name,
                links.c.state, links.c.status).where(
    links.c.environment == bindparam("env_name"),
    links.c.id == any_(bindparam("link_ids", type_=ARRAY(BigInteger)))).order_by(links.c.id)


def clique_graph(conn: Connection, environment: str, object_id: str) -> Document:
    """The clique of ``object_id`` as nodes and links: its own clique when it is a focal
    point, else the union of the cliques that contain it. ``NotFound`` when there is
    neither the object nor a clique."""
    found = (conn.execute(_OWN_CLIQUE, {"env_name": environment, "object_id": object_id}).all()
             or conn.execute(_CLIQUES_CONTAINING,
                             {"env_name": environment, "containing": [object_id]}).all())
    node_ids = dict.fromkeys([object_id, *(node for clique in found for node in clique.nodes or ())])
    link_ids = list(dict.fromkeys(i for clique in found for i in clique.links or () if isinstance(i, int)))
    nodes = {row.id: {"id": row.id, "type": row.type, "name": row.name,
                      "status": row.status if row.status is not None else row.doc_status}
             for row in conn.execute(_NODES, {"env_name": environment, "node_ids": list(node_ids)})}
    if not nodes and not found:
        raise NotFound(f"no object or clique {object_id!r} in environment {environment!r}")
    rows = conn.execute(_LINKS, {"env_name": environment, "link_ids": link_ids}).all() if link_ids else []
    graph_links = [
        {"id": row.id, "source": row.source_id, "target": row.target_id, "link_type": row.link_type,
         "link_name": row.link_name, "state": row.state, "status": row.status}
        for row in rows if row.source_id in nodes and row.target_id in nodes
    ]
    return {"focal_point": object_id, "cliques": [clique.focal_point for clique in found],
            "nodes": [nodes[i] for i in node_ids if i in nodes], "links": graph_links}


# -- impact ----------------------------------------------------------------------------


def link_path(links_detailed: list[Document], start: str, goal: str) -> list[Document]:
    """The shortest chain of links from ``start`` to ``goal``, links taken either way."""
    return nearest_path(links_detailed, [start], goal)[1]


def nearest_path(links_detailed: list[Document], starts: list[str], goal: str) -> tuple[str | None, list[Document]]:
    """The shortest chain of links from any of ``starts`` to ``goal``, links taken either
    way, and the start it leaves from (the first of ``starts`` on a tie); ``(None, [])``
    when none leads there. One breadth-first search from all of them."""
    adjacent: dict[str, list[tuple[str, Document]]] = {}
    for link in links_detailed:
        source, target = link.get("source_id"), link.get("target_id")
        adjacent.setdefault(source, []).append((target, link))
        adjacent.setdefault(target, []).append((source, link))
    came_from: dict[str, tuple[str, Document] | None] = dict.fromkeys(starts)
    queue = deque(came_from)
    while queue and goal not in came_from:
        here = queue.popleft()
        for there, link in adjacent.get(here, []):
            if there not in came_from:
                came_from[there] = (here, link)
                queue.append(there)
    if goal not in came_from:
        return None, []
    path: list[Document] = []
    node, step = goal, came_from[goal]
    while step is not None:
        node, link = step
        path.append({k: link.get(k) for k in ("id", "link_type", "link_name", "source_id", "target_id")})
        step = came_from[node]
    return node, path[::-1]


def _dependents(found: list[Document], object_id: str, inside: set[str]) -> dict[str, tuple[str, list[Document]]]:
    """Each focal point whose clique holds ``object_id`` or one of the objects ``inside``
    it (its subtree), with the object it is reached through (the object itself first) and
    the shortest path of links from there."""
    paths: dict[str, tuple[str, list[Document]]] = {}
    for clique in found:
        focal = clique["focal_point"]
        members = {focal, *clique.get("nodes", ())}
        starts = ([object_id] if object_id in members else []) + sorted(inside & members)
        if focal == object_id or not starts:
            continue
        through, path = nearest_path(clique.get("links_detailed", []), starts, focal)
        paths[focal] = (through or starts[0], path)
    return paths


def _related(conn: Connection, environment: str, dependents: list[Document], object_type: str,
             keys_of) -> list[Document]:
    """Projects or hosts of the dependents, each with the dependents (``via``) it reaches."""
    via: dict[str, list[str]] = {}
    for doc in dependents:
        for key in keys_of(doc):
            via.setdefault(key, []).append(doc["id"])
    if not via:
        return []
    query = select(inventory).where(inventory.c.environment == environment, inventory.c.type == object_type,
                                    or_(inventory.c.id.in_(list(via)), inventory.c.name.in_(list(via))))
    known = {key: doc for doc in map(join_document, conn.execute(query)) for key in (doc["id"], doc["name"])}
    related = {}
    for key, ids in via.items():
        doc = known.get(key, {"id": key, "name": key, "type": object_type})
        entry = related.setdefault(doc["id"], {**_node(doc), "via": []})
        entry["via"] = sorted(set(entry["via"]) | set(ids))
    return sorted(related.values(), key=lambda e: (e["name"], e["id"]))


def _projects_of(doc: Document) -> list[str]:
    names = doc.get("projects") if isinstance(doc.get("projects"), list) else []
    single = [doc.get(k) for k in ("project", "project_id", "tenant_id") if isinstance(doc.get(k), str)]
    return [*names, *single]


def impact(engine: Engine, environment: str, object_id: str) -> Document:
    """Everything that depends on ``object_id``: the focal points of the cliques that
    contain it or an object of its subtree (a host's instances and NICs), each with the
    object it is reached ``through`` and the path of links from there; and the projects
    and hosts of those dependents."""
    with engine.connect() as conn:
        subject = _objects(conn, environment, [object_id]).get(object_id)
        if subject is None:
            raise NotFound(f"no object {object_id!r} in environment {environment!r}")
        inside = set(conn.scalars(select(inventory.c.id).where(
            inventory.c.environment == environment,
            inventory.c.id_path.startswith(subject["id_path"] + "/", autoescape=True))))
        members = sorted({object_id} | inside)
        found = _cliques(conn, environment, cliques.c.nodes.overlap(cast(members, ARRAY(String)))
                         | cliques.c.focal_point.in_(members))
        paths = _dependents(found, object_id, inside)
        docs = _objects(conn, environment, paths)
        dependents = [docs[i] for i in sorted(paths) if i in docs]
        groups: dict[str, list[Any]] = {group: [] for group in IMPACT_GROUPS}
        for doc in dependents:
            through, path = paths[doc["id"]]
            groups.setdefault(doc["type"] + "s", []).append({**_node(doc), "host": doc.get("host"),
                                                            "through": through, "path": path})
        groups["projects"] = _related(conn, environment, dependents, "project", _projects_of)
        groups["hosts"] = _related(conn, environment, dependents, "host",
                                   lambda d: [d["host"]] if d.get("host") and d["id"] != d["host"] else [])
    return {"object": _node(subject), "impact": groups,
            "counts": {group: len(items) for group, items in groups.items()}}
