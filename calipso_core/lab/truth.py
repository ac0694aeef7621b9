"""The lab's ground truth (every object, link and clique a perfect scan must find) and
the comparison of an environment's inventory with it (``calipso lab verify``)."""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from calipso_core.scan.cliques import build_cliques
from calipso_core.store.tables import cliques

LinkKey = tuple[str, str, str]  # (link type, source id, target id)


@dataclass
class Truth:
    """Objects by id (type, parent and the fields cliques need) and links with their
    ``network`` attribute. Each plugin's lab part adds its own."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[LinkKey, dict[str, Any]] = field(default_factory=dict)

    def add(self, object_type: str, object_id: str, parent_id: str, **fields: Any) -> None:
        self.objects[object_id] = {"id": object_id, "type": object_type, "parent_id": parent_id, **fields}

    folder = add

    def has(self, object_type: str, object_id: str) -> bool:
        return self.objects.get(object_id, {}).get("type") == object_type

    def link(self, link_type: str, source: str, target: str, network: str | None = None) -> None:
        attributes = {"network": network} if network else {}
        self.links[(link_type, source, target)] = {
            "link_type": link_type, "source_id": source, "target_id": target, "attributes": attributes}

    def merge(self, other: Truth) -> None:
        self.objects.update(other.objects)
        self.links.update(other.links)

    def cliques(self, env: dict, clique_types: list) -> dict[str, tuple[LinkKey, ...]]:
        """The cliques of the truth: focal point id -> its links, by the core's algorithm."""
        types = [asdict(t) if not isinstance(t, dict) else t for t in clique_types]
        constraints = {t["focal_point_type"]: list(t.get("constraints") or ()) for t in types}
        by_type: dict[str, list[dict]] = defaultdict(list)
        for obj in self.objects.values():
            by_type[obj["type"]].append(obj)
        found = build_cliques(env, types, constraints, lambda t: by_type.get(t, []), self.links.values())
        return {c["focal_point"]: tuple(sorted((d["link_type"], d["source_id"], d["target_id"])
                                               for d in c["links_detailed"])) for c in found}

    def as_document(self, env: dict, clique_types: list) -> dict[str, Any]:
        return {
            "objects": sorted(self.objects.values(), key=lambda o: (o["type"], o["id"])),
            "links": [self.links[k] for k in sorted(self.links)],
            "cliques": [{"focal_point": fp, "links": [list(k) for k in keys]}
                        for fp, keys in sorted(self.cliques(env, clique_types).items())],
        }


@dataclass
class Comparison:
    """Per kind (``objects``, ``links``, ``cliques``) and type: expected, found, missing,
    unexpected, with a few examples of each difference."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return sum(row["missing"] + row["unexpected"] for row in self.rows)


def _compare(kind: str, expected: dict[Any, str], found: dict[Any, str]) -> list[dict[str, Any]]:
    rows = []
    for type_name in sorted(set(expected.values()) | set(found.values())):
        want = {k for k, t in expected.items() if t == type_name}
        have = {k for k, t in found.items() if t == type_name}
        missing, unexpected = sorted(want - have, key=str), sorted(have - want, key=str)
        rows.append({"kind": kind, "type": type_name, "expected": len(want), "found": len(have),
                     "missing": len(missing), "unexpected": len(unexpected),
                     "examples": [f"missing {m}" for m in missing[:3]] + [f"unexpected {u}" for u in unexpected[:3]]})
    return rows


def _keys(document: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Objects by (id, parent), links by (type, source, target), cliques by (focal point,
    number of links, digest of the links); each mapped to its type."""
    types = {o["id"]: o["type"] for o in document["objects"]}
    objects = {(o["id"], o.get("parent_id")): o["type"] for o in document["objects"]}
    links = {(k["link_type"], k["source_id"], k["target_id"]): k["link_type"] for k in document["links"]}
    cliques = {}
    for clique in document["cliques"]:
        keys = sorted(tuple(k) for k in clique["links"])
        digest = zlib.crc32(repr(keys).encode())
        cliques[(clique["focal_point"], len(keys), f"{digest:08x}")] = types.get(clique["focal_point"], "?")
    return objects, links, cliques


def compare(expected: dict[str, Any], stored: dict[str, Any]) -> Comparison:
    """Compare two documents shaped like ``Truth.as_document``: objects by id and parent,
    links by type and ends, cliques by focal point and the exact set of their links; and
    the stored objects' name paths with their parents'."""
    rows = []
    for kind, want, have in zip(("objects", "links", "cliques"), _keys(expected), _keys(stored), strict=True):
        rows += _compare(kind, want, have)
    return Comparison(rows + _wrong_name_paths(stored["objects"]))


def _wrong_name_paths(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per type, the stored objects whose name path is not their parent's followed by their
    name (the truth has no names: a stored inventory is checked against itself)."""
    paths = {o["id"]: o.get("name_path") for o in objects}
    checked: Counter = Counter()
    wrong: dict[str, list[dict]] = defaultdict(list)
    for obj in objects:
        parent = paths.get(obj.get("parent_id"))
        if parent is None:  # below the environment itself
            continue
        checked[obj["type"]] += 1
        if obj.get("name_path") != f"{parent}/{obj.get('name')}":
            wrong[obj["type"]].append(obj)
    return [{"kind": "name paths", "type": type_name, "expected": checked[type_name],
             "found": checked[type_name] - len(bad), "missing": 0, "unexpected": len(bad),
             "examples": [f"{o['id']}: {o.get('name_path')!r}" for o in bad[:3]]}
            for type_name, bad in sorted(wrong.items())]


def stored_document(inventory, engine, env: str) -> dict[str, Any]:
    """An environment's stored inventory in the shape of ``Truth.as_document``."""
    with engine.connect() as conn:
        rows = conn.execute(select(cliques.c.focal_point, cliques.c.doc).where(cliques.c.environment == env)).all()
    return {
        "objects": inventory.find(env),
        "links": inventory.find_links(env),
        "cliques": [{"focal_point": fp, "links": [[d["link_type"], d["source_id"], d["target_id"]]
                                                  for d in doc.get("links_detailed", [])]} for fp, doc in rows],
    }
