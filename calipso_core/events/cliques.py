"""Recomputing only the cliques a change touches.

A clique changes when a link on its walk is added, changed or removed, when its focal
point changes, or when one of its nodes is deleted. So the cliques to recompute are
those of the focal points among the changed ids, and those whose stored ``nodes``
contain a changed id (a GIN-indexed containment query per id). Each is rebuilt with the
core's own ``build_clique``, over a ``LazyLinkIndex`` that reads from the database only
the links of the nodes the walk reaches, a level at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert

from calipso_core.scan.cliques import LinkIndex, allowed, build_clique, select_clique_types
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import clique_constraints, clique_types, cliques, inventory, links
from calipso_core.types import Document

CHUNK = 200


class LinkLoader:
    """The links of each node, read once per batch through the event's transaction."""

    def __init__(self, conn, environment: str):
        self.conn, self.environment = conn, environment
        self._by_node: dict[str, dict[tuple[str, str, str], Document]] = {}
        self.queries = 0

    def load(self, nodes: Iterable[str]) -> None:
        wanted = sorted({n for n in nodes if n not in self._by_node})
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start:start + CHUNK]
            for node in part:
                self._by_node[node] = {}
            query = select(links).where(links.c.environment == self.environment,
                                        or_(links.c.source_id.in_(part), links.c.target_id.in_(part)))
            self.queries += 1
            for row in self.conn.execute(query):
                link = join_document(row)
                key = (link["link_type"], link["source_id"], link["target_id"])
                for end in (link["source_id"], link["target_id"]):
                    if end in self._by_node:
                        self._by_node[end][key] = link

    def links_of(self, node: str) -> list[Document]:
        return list(self._by_node[node].values())


class LazyLinkIndex(LinkIndex):
    """A ``LinkIndex`` filled as the walk goes: when asked about a node it has not read, it
    reads that node's links together with those of every node the walk could reach next
    (far ends of allowed links, of a type some link type of the walk starts from)."""

    def __init__(self, loader: LinkLoader, constraints: Mapping[str, Any], link_types: Iterable[str],
                 use_implicit: bool = False):
        super().__init__((), use_implicit)
        self.loader, self.constraints, self.use_implicit = loader, dict(constraints), use_implicit
        self.stepping_types = {lt.split("-", 1)[0] for lt in link_types}
        self._loaded: set[str] = set()
        self._frontier: set[str] = set()
        self._seen_links: set[tuple[str, str, str]] = set()

    def step(self, link_type: str, node: str):
        if node not in self._loaded:
            self._read({node} | self._frontier)
        return super().step(link_type, node)

    def _read(self, nodes: set[str]) -> None:
        self.loader.load(nodes)
        self._loaded |= nodes
        self._frontier -= nodes
        for node in nodes:
            for link in self.loader.links_of(node):
                self._add(link, node)

    def _add(self, link: Document, node: str) -> None:
        key = (link["link_type"], link["source_id"], link["target_id"])
        if key not in self._seen_links and (self.use_implicit or not link.get("implicit")):
            self._seen_links.add(key)
            self.forward[link["link_type"]][link["source_id"]].append(link)
            self.backward[link["link_type"]][link["target_id"]].append(link)
        if not allowed(link, self.constraints):
            return
        source_type, target_type = link["link_type"].split("-", 1)
        far, far_type = (link["target_id"], target_type) if node == link["source_id"] else (link["source_id"],
                                                                                             source_type)
        if far not in self._loaded and far_type in self.stepping_types:
            self._frontier.add(far)


def clique_setup(conn, env: Document) -> tuple[dict[str, Mapping], dict[str, list[str]]]:
    """The clique type chosen for each focal point type, and the constraints per type."""
    types = [row.doc | {"name": row.name} for row in conn.execute(select(clique_types))]
    constraints = {row.focal_point_type: row.doc.get("constraints", [])
                   for row in conn.execute(select(clique_constraints)) if row.environment in ("", env["name"])}
    return select_clique_types(types, env), constraints


def cliques_through(conn, environment: str, ids: Iterable[str]) -> dict[str, Document]:
    """The stored cliques whose nodes include one of ``ids`` (a focal point's own clique
    includes it): focal point -> the clique's ``clique_type`` and document."""
    ids, found = sorted(set(ids)), {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        query = select(cliques.c.focal_point, cliques.c.clique_type, cliques.c.doc).where(
            cliques.c.environment == environment, or_(*(cliques.c.doc.contains({"nodes": [i]}) for i in part)))
        found.update({focal: {**doc, "clique_type": clique_type} for focal, clique_type, doc in conn.execute(query)})
    return found


def update_cliques(conn, env: Document, changed_ids: Iterable[str]) -> tuple[int, int]:
    """Recompute the cliques through ``changed_ids``; returns (written, removed)."""
    changed_ids = set(changed_ids)
    if not changed_ids:
        return 0, 0
    chosen, constraints = clique_setup(conn, env)
    name = env["name"]
    through = cliques_through(conn, name, changed_ids)
    focal_ids = set(through) | changed_ids
    focal_docs = _objects(conn, name, focal_ids, set(chosen))
    loader = LinkLoader(conn, name)
    loader.load({node for doc in through.values() for node in doc.get("nodes", ())} | changed_ids)
    rows, built = [], set()
    for focal in focal_docs:
        clique_type = chosen[focal["type"]]
        keys = constraints.get(focal["type"], ())
        wanted = {k: focal.get(k) for k in keys if focal.get(k) is not None}
        index = LazyLinkIndex(loader, wanted, clique_type["link_types"], bool(clique_type.get("use_implicit_links")))
        clique = build_clique(focal, clique_type, keys, index)
        if clique:
            built.add(focal["id"])
            row = _row(name, clique)
            if {**row["doc"], "clique_type": row["clique_type"]} != through.get(focal["id"]):
                rows.append(row)
    removed = 0
    stale = sorted(set(through) - built)
    for start in range(0, len(stale), CHUNK):
        removed += conn.execute(delete(cliques).where(cliques.c.environment == name,
                                                      cliques.c.focal_point.in_(stale[start:start + CHUNK]))).rowcount
    if rows:
        stmt = insert(cliques)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["environment", "focal_point"],
            set_={c: stmt.excluded[c] for c in ("focal_point_type", "clique_type", "last_scanned", "doc")}), rows)
    return len(rows), removed


def _objects(conn, environment: str, ids: set[str], types: set[str]) -> list[Document]:
    found, ids = [], sorted(ids)
    for start in range(0, len(ids), CHUNK):
        query = select(inventory).where(inventory.c.environment == environment, inventory.c.type.in_(sorted(types)),
                                        inventory.c.id.in_(ids[start:start + CHUNK]))
        found += [join_document(row) for row in conn.execute(query)]
    return sorted(found, key=lambda d: d["id"])


def _row(environment: str, clique: Document) -> dict:
    return {"environment": environment, "focal_point": clique["focal_point"],
            "focal_point_type": clique["focal_point_type"], "clique_type": clique["clique_type"],
            "last_scanned": datetime.now(UTC),
            "doc": {k: v for k, v in clique.items() if k not in ("focal_point", "focal_point_type", "clique_type")}}
