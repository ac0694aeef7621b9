"""Cliques: for each focal point object, the links that make up its end-to-end path.

The clique type for a focal point type is the best-scoring one for the environment
(environment name 64; ``ANY`` 1; then distribution +32, version +16, mechanism driver +8,
type driver +4, any mismatch 0). The walk follows the type's link types in order, each in
whichever direction the stored links have, only from nodes reached so far, and never
across a link whose constraint attribute (e.g. ``network``) differs from the focal
point's. Every link type is tried (an empty one does not stop the walk).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

from calipso_core.types import Document


def score(clique_type: Mapping[str, Any], env: Mapping[str, Any]) -> int:
    environment = clique_type.get("environment") or ""
    if environment and environment != "ANY":
        return 64 if environment == env.get("name") else 0
    total = 1 if environment == "ANY" else 2
    if clique_type.get("environment_type") and clique_type["environment_type"] != env.get("environment_type"):
        return 0
    checks = (
        ("distribution", 32, lambda want, have: want == have),
        ("distribution_version", 16, lambda want, have: want == have),
        ("mechanism_drivers", 8, lambda want, have: bool(set(_list(want)) & set(_list(have)))),
        ("type_drivers", 4, lambda want, have: bool(set(_list(want)) & set(_list(have)))),
    )
    for key, points, matches in checks:
        want = clique_type.get(key)
        if want:
            if not matches(want, env.get(key)):
                return 0
            total += points
    return total


def _list(value) -> list:
    return value if isinstance(value, list | tuple) else [value]


def select_clique_types(types: Iterable[Mapping[str, Any]], env: Mapping[str, Any]) -> dict[str, Mapping]:
    """The best clique type per focal point type (ties: the first one)."""
    best: dict[str, tuple[int, Mapping]] = {}
    for clique_type in types:
        points = score(clique_type, env)
        focal = clique_type["focal_point_type"]
        if points > 0 and points > best.get(focal, (0, None))[0]:
            best[focal] = (points, clique_type)
    return {focal: chosen for focal, (_, chosen) in best.items()}


class LinkIndex:
    """Links by type, from each end."""

    def __init__(self, links: Iterable[Document], use_implicit: bool = False):
        self.use_implicit = use_implicit
        self.forward: dict[str, dict[str, list[Document]]] = defaultdict(lambda: defaultdict(list))
        self.backward: dict[str, dict[str, list[Document]]] = defaultdict(lambda: defaultdict(list))
        for link in links:
            self.add(link)

    def add(self, link: Document) -> None:
        if link.get("implicit") and not self.use_implicit:
            return
        self.forward[link["link_type"]][link["source_id"]].append(link)
        self.backward[link["link_type"]][link["target_id"]].append(link)

    def step(self, link_type: str, node: str) -> list[tuple[Document, str]]:
        """Links of ``link_type`` (either direction) leaving ``node``, with the far end."""
        if link_type in self.forward:
            return [(link, link["target_id"]) for link in self.forward[link_type].get(node, ())]
        backward = self.backward.get(reverse(link_type))
        return [(link, link["source_id"]) for link in backward.get(node, ())] if backward else []


@functools.cache
def reverse(link_type: str) -> str:
    """``a-b`` -> ``b-a``."""
    source_type, target_type = link_type.split("-", 1)
    return f"{target_type}-{source_type}"


def wanted_values(constraints: Mapping[str, Any]) -> dict[str, frozenset]:
    """Constraints as ``allowed`` takes them: the values wanted for each attribute, as a
    set (a constraint of None constrains nothing)."""
    return {key: frozenset(wanted if isinstance(wanted, list) else [wanted])
            for key, wanted in constraints.items() if wanted is not None}


def allowed(link: Document, wanted: Mapping[str, frozenset]) -> bool:
    """Whether ``link`` may be walked: each attribute it has of those ``wanted``
    (``wanted_values``) holds one of the wanted values."""
    attributes = link.get("attributes")
    if not attributes:
        return True
    for key, values in wanted.items():
        if key in attributes:
            value = attributes[key]
            if values.isdisjoint(value) if isinstance(value, list) else value not in values:
                return False
    return True


def focal_constraints(focal: Document, constraint_keys: Iterable[str]) -> dict[str, Any]:
    """The values of the focal point that the links of its clique must match."""
    return {key: focal.get(key) for key in constraint_keys if focal.get(key) is not None}


#: ``known(link type, node)``: the links of that type a walk takes from the node, when
#: the caller knows them without the index (None: ask the index).
Known = Callable[[str, str], "list[tuple[Document, str]] | None"]


def walk_steps(focal: Document, link_types: Iterable[str], constraints: Mapping[str, Any], index: LinkIndex,
               known: Known | None = None) -> Generator[tuple[str, set[str]], None, tuple[dict, set[str]]]:
    """The walk itself (see ``clique_walk``): returns the links taken by key, and the nodes."""
    nodes: dict[str, set[str]] = defaultdict(set)
    nodes[focal["type"]].add(focal["id"])
    links: dict[Any, Document] = {}
    wanted = wanted_values(constraints)
    for link_type in link_types:
        source_type, target_type = link_type.split("-", 1)
        frontier = sorted(nodes[source_type])
        steps = {node: known(link_type, node) for node in frontier} if known else {}
        unknown = {node for node in frontier if steps.get(node) is None}
        if unknown:
            yield link_type, unknown
        for node in frontier:
            found = steps.get(node)
            for link, far in index.step(link_type, node) if found is None else found:
                key = (link["link_type"], link["source_id"], link["target_id"])
                if key not in links and allowed(link, wanted):
                    links[key] = link
                    nodes[target_type].add(far)
    return links, {node for ids in nodes.values() for node in ids}


def clique_walk(focal: Document, clique_type: Mapping[str, Any], constraint_keys: Iterable[str],
                index: LinkIndex, known: Known | None = None) -> Generator[tuple[str, set[str]], None, Document | None]:
    """The walk of ``build_clique``, one link type at a time: before each step it yields
    the link type and the nodes it is about to step from through ``index`` (those that
    ``known`` does not answer for), so that a caller walking many cliques can read just
    those links, for all of them at once. Returns the clique (None without links)."""
    constraints = focal_constraints(focal, constraint_keys)
    links, nodes = yield from walk_steps(focal, clique_type["link_types"], constraints, index, known)
    if not links:
        return None
    detailed = sorted(links.values(), key=lambda k: (k["link_type"], k["source_id"], k["target_id"]))
    return {
        "focal_point": focal["id"],
        "focal_point_type": focal["type"],
        "clique_type": clique_type["name"],
        "constraints": constraints,
        "links": [link["id"] for link in detailed if link.get("id") is not None],
        "links_detailed": [{k: link.get(k) for k in ("id", "link_type", "source_id", "target_id", "link_name")}
                           for link in detailed],
        "nodes": sorted(nodes),
    }


def build_clique(focal: Document, clique_type: Mapping[str, Any], constraint_keys: Iterable[str],
                 index: LinkIndex) -> Document | None:
    """The clique of one focal point, or None when it has no link."""
    walk = clique_walk(focal, clique_type, constraint_keys, index)
    while True:
        try:
            next(walk)
        except StopIteration as done:
            return done.value


def build_cliques(env: Mapping[str, Any], clique_types: Iterable[Mapping], constraints: Mapping[str, list[str]],
                  objects_of_type, links: Iterable[Document]) -> list[Document]:
    """Every clique of an environment. ``objects_of_type(type)`` returns the focal objects."""
    chosen = select_clique_types(clique_types, env)
    implicit = any(ct.get("use_implicit_links") for ct in chosen.values())
    index = LinkIndex(links, use_implicit=implicit)
    cliques = []
    for focal_type, clique_type in sorted(chosen.items()):
        for focal in objects_of_type(focal_type):
            clique = build_clique(focal, clique_type, constraints.get(focal_type, ()), index)
            if clique:
                cliques.append(clique)
    return cliques
