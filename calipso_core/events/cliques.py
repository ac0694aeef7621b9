"""Recomputing only the cliques a change touches.

A clique changes only when its focal point changes (its constraints), when one of its
nodes is deleted, or when a link its walk could take is added, changed or removed. The
walk steps along a link type from the nodes it has reached, so a link matters to a
clique only when the end the walk would step from is among the clique's stored nodes
(the first step where an old and a new walk differ starts from a node both reached) and
the link passes the clique's constraints. A link whose end is a focal point may make
that focal point's first clique. Objects that merely changed (a vEdge's port list) change
no clique, and a changed focal point changes its own only when it has none yet or other
constraints now. The candidates are found through the index of clique nodes, in one
statement, the database telling which of the ids each holds; they are rebuilt
with the core's own walk (``clique_walk``), side by side, a link type at a time. The
walk is a union of steps, each from one node, so a step the stored clique took from a
node whose links did not change takes the same links now (``Previous``): only the
others are read from the database, for all walks at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import String, and_, delete, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY, array, insert

from calipso_core.scan.cliques import (
    LinkIndex,
    allowed,
    clique_walk,
    focal_constraints,
    reverse,
    select_clique_types,
    walk_steps,
    wanted_values,
)
from calipso_core.store.inventory import join_document, one_of, split_document
from calipso_core.store.tables import clique_constraints, clique_types, cliques, inventory, links
from calipso_core.types import Document


class LinkLoader:
    """The links walks may step along, read once per batch through the event's
    transaction into a ``LinkIndex`` (one with implicit links, one without)."""

    def __init__(self, conn, environment: str):
        self.conn, self.environment = conn, environment
        self._loaded: set[tuple[str, str]] = set()  # (link type, node) read
        self._links: dict[tuple[str, str, str], Document] = {}
        self._indexes: dict[bool, LinkIndex] = {}

    def index(self, use_implicit: bool) -> LinkIndex:
        if use_implicit not in self._indexes:
            self._indexes[use_implicit] = LinkIndex(self._links.values(), use_implicit)
        return self._indexes[use_implicit]

    def load(self, steps: Mapping[str, Iterable[str]]) -> None:
        """Read, for each link type, the links a walk stepping along it from its nodes may
        take (of that type from the node, of the reverse type to it), unless read before.
        Only those: a network's thousands of links are not read for a walk that ends there."""
        for link_type, nodes in steps.items():
            wanted = [n for n in nodes if (link_type, n) not in self._loaded]
            if not wanted:
                continue
            self._loaded.update((link_type, n) for n in wanted)
            query = select(links).where(links.c.environment == self.environment, or_(
                and_(links.c.link_type == link_type, one_of(links.c.source_id, wanted)),
                and_(links.c.link_type == reverse(link_type), one_of(links.c.target_id, wanted))))
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


def _by_focal_point(conn, environment: str, focal_points: Iterable[str], *columns) -> Iterable:
    """Rows of (focal point, ``columns``) of the stored cliques of ``focal_points``."""
    focal_points = set(focal_points)
    return conn.execute(select(cliques.c.focal_point, *columns).where(
        cliques.c.environment == environment, one_of(cliques.c.focal_point, focal_points))) if focal_points else ()


def stored_cliques(conn, environment: str, focal_points: Iterable[str]) -> dict[str, Document]:
    """Focal point -> its stored clique, as ``clique_walk`` builds it."""
    columns = [c for c in cliques.c if c.name not in ("environment", "focal_point", "last_scanned")]
    return {row.focal_point: join_document(row) for row in _by_focal_point(conn, environment, focal_points, *columns)}


def _candidates(conn, environment: str, ids: Iterable[str]) -> Iterator[tuple[str, str, dict, set[str]]]:
    """The stored cliques through any of ``ids``: their focal point, clique type,
    constraints and which of ``ids`` they hold, without reading their documents or their
    nodes (a network's are thousands): the index of nodes is asked once per id. The
    planner cannot tell how many cliques hold an id it does not know yet, and would read
    every clique once per id instead (30-60 ms at 20,000 instances against 1-2 ms): the
    ``OFFSET`` keeps the lookup per id, and sequential scans are ruled out for it."""
    ids = sorted(set(ids))
    if not ids:
        return
    node = func.unnest(literal(ids, ARRAY(String))).table_valued("id").render_derived(name="node")
    holding = select(cliques.c.environment, cliques.c.focal_point, cliques.c.clique_type, cliques.c.constraints
                     ).where(cliques.c.nodes.overlap(array([node.c.id]))).offset(0).lateral()
    columns = (holding.c.focal_point, holding.c.clique_type, holding.c.constraints)
    query = (select(*columns, func.array_agg(node.c.id)).select_from(node).join(holding, true())
             .where(holding.c.environment == environment).group_by(*columns))
    # Set for the transaction, put back after; a failure rolls it back with the rest.
    was = conn.scalar(select(func.current_setting("enable_seqscan"), func.set_config("enable_seqscan", "off", True)))
    found = conn.execute(query).all()
    conn.execute(select(func.set_config("enable_seqscan", was, True)))
    for focal, clique_type, constraints, matched in found:
        yield focal, clique_type, constraints or {}, set(matched)


def link_steps(link: Document, link_types: Iterable[str]) -> set[tuple[str, str]]:
    """The steps of a walk over ``link_types`` that would take ``link``: (the link type
    stepped along, the end stepped from)."""
    backward = reverse(link["link_type"])
    return ({(link["link_type"], link["source_id"])} if link["link_type"] in link_types else set()) | (
        {(backward, link["target_id"])} if backward in link_types else set())


class Previous:
    """What a clique's stored version tells of a walk now (a ``Known`` for ``clique_walk``):
    the links the walk took from a node along a link type, when the node was reached by
    that step before and no link of that type from it changed (``dirty``); links to
    removed objects are gone. A walk of thousands of nodes then reads only the links
    around what changed."""

    def __init__(self, clique: Document, focal: Document, clique_type: Mapping,
                 dirty: set[tuple[str, str]], removed: set[str]):
        self.index = LinkIndex(link for link in clique.get("links_detailed") or ()
                               if link["source_id"] not in removed and link["target_id"] not in removed)
        self.dirty = dirty
        # Link type -> the nodes the walk stepped from along it.
        self.reached = dict(walk_steps(focal, clique_type["link_types"], {}, self.index))

    def __call__(self, link_type: str, node: str) -> list[tuple[Document, str]] | None:
        if (link_type, node) in self.dirty or node not in self.reached.get(link_type, ()):
            return None
        return self.index.step(link_type, node)


def touched_cliques(conn, environment: str, chosen: Mapping[str, Mapping], constraints: Mapping[str, list[str]],
                    changed_ids: set[str], removed_ids: set[str], changed_links: list[Document]
                    ) -> tuple[list[Document], dict[str, Document], dict[str, set[tuple[str, str]]]]:
    """The focal points whose clique may differ now (see module doc), the stored cliques
    that may have to change (focal point -> document), and per clique type the steps
    whose links changed (``link_steps``)."""
    focal_types = set(chosen)
    dirty: dict[str, set[tuple[str, str]]] = defaultdict(set)
    starts: dict[str, dict[str, list[Document]]] = defaultdict(dict)  # clique type -> node -> links
    maybe = set(changed_ids)  # a changed focal point or the end of a changed link
    for link in changed_links:
        for end, end_type in zip((link["source_id"], link["target_id"]), link["link_type"].split("-", 1),
                                 strict=True):
            if end_type in focal_types:
                maybe.add(end)
        for clique_type in chosen.values():
            for step in link_steps(link, clique_type["link_types"]):
                dirty[clique_type["name"]].add(step)
                starts[clique_type["name"]].setdefault(step[1], []).append(link)
    touched = set(removed_ids)
    through = set(removed_ids).union(*starts.values())
    for focal, clique_type, limits, held in _candidates(conn, environment, through):
        by_node = starts.get(clique_type, {})
        wanted = wanted_values(limits)
        if held & removed_ids or any(allowed(link, wanted) for node in held & by_node.keys() for link in by_node[node]):
            touched.add(focal)
    focal_docs = _objects(conn, environment, touched | maybe, focal_types)
    # The others' cliques change only if they have none yet or other constraints.
    heads = _heads(conn, environment, {doc["id"] for doc in focal_docs} - touched)
    focal_docs = [doc for doc in focal_docs if doc["id"] in touched or heads.get(doc["id"]) != (
        chosen[doc["type"]]["name"], focal_constraints(doc, constraints.get(doc["type"], ())))]
    return focal_docs, stored_cliques(conn, environment, touched | {doc["id"] for doc in focal_docs}), dirty


def _heads(conn, environment: str, focal_points: Iterable[str]) -> dict[str, tuple[str, dict]]:
    """Focal point -> its stored clique's type and constraints."""
    return {focal: (clique_type, limits or {}) for focal, clique_type, limits in
            _by_focal_point(conn, environment, focal_points, cliques.c.clique_type, cliques.c.constraints)}


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
    focal_docs, through, dirty = touched_cliques(conn, name, chosen, constraints, changed_ids, removed_ids,
                                                 changed_links)
    loader = LinkLoader(conn, name)
    walks = {}
    for focal in focal_docs:
        clique_type, keys = chosen[focal["type"]], constraints.get(focal["type"], ())
        old = through.get(focal["id"])
        reusable = old and (old["clique_type"], old.get("constraints")) == (
            clique_type["name"], focal_constraints(focal, keys))
        known = Previous(old, focal, clique_type, dirty[clique_type["name"]], removed_ids) if reusable else None
        index = loader.index(bool(clique_type.get("use_implicit_links")))
        walks[focal["id"]] = clique_walk(focal, clique_type, keys, index, known)
    rows, built = [], set()
    at = datetime.now(UTC)
    for focal_id, clique in walk_all(loader, walks).items():
        if clique:
            built.add(focal_id)
            if clique != through.get(focal_id):
                rows.append(split_document(cliques, name, {**clique, "last_scanned": at}))
    gone = set(through) - built
    removed = conn.execute(delete(cliques).where(cliques.c.environment == name, one_of(cliques.c.focal_point, gone))
                           ).rowcount if gone else 0
    if rows:
        stmt = insert(cliques)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["environment", "focal_point"],
            set_={c: stmt.excluded[c] for c in rows[0] if c not in ("environment", "focal_point")}), rows)
    return len(rows), removed


def _objects(conn, environment: str, ids: set[str], types: set[str]) -> list[Document]:
    if not ids:
        return []
    query = select(inventory).where(inventory.c.environment == environment, inventory.c.type.in_(sorted(types)),
                                    one_of(inventory.c.id, ids))
    return sorted((join_document(row) for row in conn.execute(query)), key=lambda d: d["id"])
