"""Recomputing only the cliques a change touches.

A clique changes only when its focal point changes (its constraints), when one of its
nodes is deleted, or when a link its walk could take is added, changed or removed. The
walk steps along a link type from the nodes it has reached, so a link matters to a
clique only when the end the walk would step from is among the clique's stored nodes
(the first step where an old and a new walk differ starts from a node both reached) and
the link passes the clique's constraints. A link whose end is a focal point may make
that focal point's first clique. Objects that merely changed (a vEdge's port list) change
no clique. The candidates are found with a GIN-indexed containment query per id; they
are rebuilt with the core's own walk (``clique_walk``), side by side, reading from the
database, a link type at a time, only the links of that type that the walks may take
from the nodes they reached.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert

from calipso_core.scan.cliques import LinkIndex, allowed, clique_walk, select_clique_types
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import clique_constraints, clique_types, cliques, inventory, links
from calipso_core.types import Document

CHUNK = 200


class LinkLoader:
    """The links walks may step along, read once per batch through the event's
    transaction into a ``LinkIndex`` (one with implicit links, one without)."""

    def __init__(self, conn, environment: str):
        self.conn, self.environment = conn, environment
        self._loaded: set[tuple[str, str]] = set()  # (link type, node) read
        self._links: dict[tuple[str, str, str], Document] = {}
        self._indexes: dict[bool, LinkIndex] = {}
        self.queries = 0

    def index(self, use_implicit: bool) -> LinkIndex:
        if use_implicit not in self._indexes:
            self._indexes[use_implicit] = LinkIndex(self._links.values(), use_implicit)
        return self._indexes[use_implicit]

    def load(self, steps: Mapping[str, Iterable[str]]) -> None:
        """Read, for each link type, the links a walk stepping along it from its nodes may
        take (of that type from the node, of the reverse type to it), unless read before.
        Only those: a network's thousands of links are not read for a walk that ends there."""
        for link_type, nodes in steps.items():
            wanted = sorted({n for n in nodes if (link_type, n) not in self._loaded})
            self._loaded.update((link_type, n) for n in wanted)
            source_type, target_type = link_type.split("-", 1)
            for start in range(0, len(wanted), CHUNK):
                part = wanted[start:start + CHUNK]
                query = select(links).where(links.c.environment == self.environment, or_(
                    and_(links.c.link_type == link_type, links.c.source_id.in_(part)),
                    and_(links.c.link_type == f"{target_type}-{source_type}", links.c.target_id.in_(part))))
                self.queries += 1
                for row in self.conn.execute(query):
                    link = join_document(row)
                    key = (link["link_type"], link["source_id"], link["target_id"])
                    if key not in self._links:
                        self._links[key] = link
                        for index in self._indexes.values():
                            index.add(link)


def walk_all(loader: LinkLoader, walks: dict[str, Generator]) -> dict[str, Document | None]:
    """Run ``clique_walk``s side by side, a link type at a time, reading the links of every
    walk's next step in one go: focal point -> its clique (None without links)."""
    built: dict[str, Document | None] = {}
    while walks:
        needed: dict[str, set[str]] = defaultdict(set)
        going = {}
        for focal, walk in walks.items():
            try:
                link_type, nodes = next(walk)
                needed[link_type] |= nodes
                going[focal] = walk
            except StopIteration as done:
                built[focal] = done.value
        loader.load(needed)
        walks = going
    return built


def clique_setup(conn, env: Document) -> tuple[dict[str, Mapping], dict[str, list[str]]]:
    """The clique type chosen for each focal point type, and the constraints per type."""
    types = [row.doc | {"name": row.name} for row in conn.execute(select(clique_types))]
    constraints = {row.focal_point_type: row.doc.get("constraints", [])
                   for row in conn.execute(select(clique_constraints)) if row.environment in ("", env["name"])}
    return select_clique_types(types, env), constraints


def stored_cliques(conn, environment: str, ids: Iterable[str], condition) -> dict[str, Document]:
    """The stored cliques that ``condition(part)`` selects, for ``ids`` a part at a time:
    focal point -> the clique's ``clique_type`` and document."""
    ids, found = sorted(set(ids)), {}
    for start in range(0, len(ids), CHUNK):
        query = select(cliques.c.focal_point, cliques.c.clique_type, cliques.c.doc).where(
            cliques.c.environment == environment, condition(ids[start:start + CHUNK]))
        found.update({focal: {**doc, "clique_type": clique_type} for focal, clique_type, doc in conn.execute(query)})
    return found


def cliques_through(conn, environment: str, ids: Iterable[str]) -> dict[str, Document]:
    """The stored cliques whose nodes include one of ``ids`` (a focal point's own clique
    includes it)."""
    return stored_cliques(conn, environment, ids,
                          lambda part: or_(*(cliques.c.doc.contains({"nodes": [i]}) for i in part)))


def stepping_ends(link: Document, link_types: Iterable[str]) -> set[str]:
    """The ends of ``link`` a walk over ``link_types`` would step from."""
    source_type, target_type = link["link_type"].split("-", 1)
    link_types = set(link_types)
    return ({link["source_id"]} if link["link_type"] in link_types else set()) | (
        {link["target_id"]} if f"{target_type}-{source_type}" in link_types else set())


def touched_cliques(conn, environment: str, chosen: Mapping[str, Mapping], changed_ids: set[str],
                    removed_ids: set[str], changed_links: list[Document]) -> tuple[set[str], dict[str, Document]]:
    """The focal points whose clique may differ now (see module doc), and the stored
    cliques among them (focal point -> document)."""
    focal_types = set(chosen)
    starts: dict[str, list[tuple[str, Document]]] = {}
    focal_ids = set(changed_ids) | set(removed_ids)
    for link in changed_links:
        for end, end_type in zip((link["source_id"], link["target_id"]), link["link_type"].split("-", 1),
                                 strict=True):
            if end_type in focal_types:
                focal_ids.add(end)
        for clique_type in chosen.values():
            for end in stepping_ends(link, clique_type["link_types"]):
                starts.setdefault(end, []).append((clique_type["name"], link))
    candidates = cliques_through(conn, environment, set(starts) | removed_ids)
    for focal, clique in candidates.items():
        nodes = set(clique.get("nodes", ()))
        if nodes & removed_ids or any(
                name == clique["clique_type"] and allowed(link, clique.get("constraints") or {})
                for node in nodes & set(starts) for name, link in starts[node]):
            focal_ids.add(focal)
    return focal_ids, {f: c for f, c in candidates.items() if f in focal_ids}


def update_cliques(conn, env: Document, changed_ids: Iterable[str], removed_ids: Iterable[str] = (),
                   changed_links: Iterable[Document] = ()) -> tuple[int, int]:
    """Recompute the cliques that ``changed_ids`` (objects written), ``removed_ids`` and
    ``changed_links`` (old and new versions of links added, changed or removed) may have
    changed; returns (written, removed)."""
    changed_ids, removed_ids, changed_links = set(changed_ids), set(removed_ids), list(changed_links)
    if not (changed_ids or removed_ids or changed_links):
        return 0, 0
    chosen, constraints = clique_setup(conn, env)
    name = env["name"]
    focal_ids, through = touched_cliques(conn, name, chosen, changed_ids, removed_ids, changed_links)
    through.update(stored_cliques(conn, name, focal_ids - set(through), cliques.c.focal_point.in_))
    focal_docs = _objects(conn, name, focal_ids, set(chosen))
    loader = LinkLoader(conn, name)
    walks = {}
    for focal in focal_docs:
        clique_type = chosen[focal["type"]]
        index = loader.index(bool(clique_type.get("use_implicit_links")))
        walks[focal["id"]] = clique_walk(focal, clique_type, constraints.get(focal["type"], ()), index)
    rows, built = [], set()
    for focal_id, clique in walk_all(loader, walks).items():
        if clique:
            built.add(focal_id)
            row = _row(name, clique)
            if {**row["doc"], "clique_type": row["clique_type"]} != through.get(focal_id):
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
