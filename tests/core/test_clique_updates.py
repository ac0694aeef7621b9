"""The listener's clique updates (``events.cliques.update_cliques``) against the scan's
full build (``build_cliques``), on a real PostgreSQL: random graphs changed at random,
batch after batch. The stored cliques are reused where the change did not reach (the
steps of a walk that took unchanged links), so a wrong reuse shows as a difference."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, select

from calipso_core.events.cliques import LinkLoader, update_cliques
from calipso_core.scan.cliques import allowed, build_cliques, wanted_values
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import clique_constraints, clique_types, cliques, inventory, links

ENV = {"name": "graph", "environment_type": "OpenStack"}
# From an ``a``: its ``b``s, their ``c``s, the other ``b``s of those ``c``s (a step back
# against the stored direction), then the ``d``s of every ``b`` reached; a ``d``'s clique
# goes the other way. Links with a ``network`` attribute must match the focal point's.
CLIQUE_TYPES = (("a", ("a-b", "b-c", "c-b", "b-d")), ("d", ("d-b", "b-a")))
LINK_TYPES = ("a-b", "b-c", "b-d")
NETWORKS = ("n1", "n2")


def objects(rng: random.Random) -> list[dict]:
    docs = []
    for kind, count in (("a", 6), ("b", 14), ("c", 5), ("d", 8)):
        for i in range(count):
            doc = {"id": f"{kind}{i}", "type": kind, "name": f"{kind}{i}", "id_path": f"/{kind}{i}",
                   "name_path": f"/{kind}{i}"}
            if kind in "ad":
                doc["network"] = rng.choice(NETWORKS)
            docs.append(doc)
    return docs


def random_link(rng: random.Random, ids: dict[str, list[str]]) -> dict:
    link_type = rng.choice(LINK_TYPES)
    source_type, target_type = link_type.split("-")
    link = {"link_type": link_type, "source_id": rng.choice(ids[source_type]),
            "target_id": rng.choice(ids[target_type]), "link_name": f"name-{rng.randrange(3)}"}
    if rng.random() < 0.5:
        link["attributes"] = {"network": rng.choice(NETWORKS)}
    return link


def stored_links(conn) -> dict[tuple, dict]:
    found = (join_document(row) for row in conn.execute(select(links).where(links.c.environment == ENV["name"])))
    return {(d["link_type"], d["source_id"], d["target_id"]): d for d in found}


def expected_cliques(conn) -> dict[str, tuple]:
    docs = [join_document(row) for row in conn.execute(select(inventory).where(inventory.c.environment == ENV["name"]))]
    types = [row.doc | {"name": row.name} for row in conn.execute(select(clique_types))]
    built = build_cliques(ENV, types, {"a": ["network"], "d": ["network"]},
                          lambda t: [d for d in docs if d["type"] == t], stored_links(conn).values())
    return {c["focal_point"]: _content(c) for c in built}


def actual_cliques(conn) -> dict[str, tuple]:
    rows = conn.execute(select(cliques.c.focal_point, cliques.c.nodes, cliques.c.doc).where(
        cliques.c.environment == ENV["name"]))
    return {focal: _content({**doc, "nodes": nodes}) for focal, nodes, doc in rows}


def _content(clique: dict) -> tuple:
    return (sorted(clique["nodes"]), [(d["link_type"], d["source_id"], d["target_id"], d["link_name"])
                                      for d in clique["links_detailed"]], clique["links"])


@pytest.fixture
def graph(calipso):
    with calipso.engine.begin() as conn:
        for focal, link_types in CLIQUE_TYPES:
            conn.execute(insert(clique_types).values(name=f"{focal}-clique", focal_point_type=focal, environment="",
                                                     doc={"focal_point_type": focal, "link_types": list(link_types)}))
            conn.execute(insert(clique_constraints).values(focal_point_type=focal, environment="",
                                                           doc={"constraints": ["network"]}))
    return calipso


@pytest.mark.parametrize("seed", range(6))
def test_updated_cliques_equal_a_full_build_after_every_batch(graph, seed, monkeypatch):
    rng = random.Random(seed)
    inventory_ = graph.inventory
    docs = objects(rng)
    ids = {kind: [d["id"] for d in docs if d["type"] == kind] for kind in "abcd"}
    reads = []
    load = LinkLoader.load
    monkeypatch.setattr(LinkLoader, "load", lambda self, steps: reads.append(
        sum(len(set(nodes)) for nodes in steps.values())) or load(self, steps))
    with graph.engine.begin() as conn:
        inventory_.upsert_objects(ENV["name"], docs, conn)
        first = {(link["link_type"], link["source_id"], link["target_id"]): link
                 for link in (random_link(rng, ids) for _ in range(45))}
        inventory_.upsert_links(ENV["name"], list(first.values()), conn)
        update_cliques(conn, ENV, [d["id"] for d in docs])
        assert actual_cliques(conn) == expected_cliques(conn)
    first_reads, reads[:] = sum(reads), []
    for _ in range(12):
        with graph.engine.begin() as conn:
            before = stored_links(conn)
            changed, removed, written = [], set(), []
            for _ in range(rng.randrange(1, 4)):
                action = rng.random()
                if action < 0.35:
                    link = random_link(rng, ids)
                    changed += [link] + ([before[key]] if (key := (link["link_type"], link["source_id"],
                                                                   link["target_id"])) in before else [])
                    inventory_.upsert_links(ENV["name"], [link], conn)
                elif action < 0.7 and before:
                    key = rng.choice(sorted(before))
                    changed.append(before.pop(key))
                    inventory_.delete_links(ENV["name"], [key], conn)
                elif action < 0.8:
                    chosen = rng.choice(ids[rng.choice("ad")])
                    focal = next(d for d in docs if d["id"] == chosen)
                    focal["network"] = rng.choice(NETWORKS)  # its clique's constraint, maybe changed
                    written.append(focal["id"])
                    inventory_.upsert_objects(ENV["name"], [focal], conn)
                elif action < 0.9 and before:
                    key = rng.choice(sorted(before))
                    new = {**before[key], "attributes": {"network": rng.choice(NETWORKS)}, "link_name": "renamed"}
                    changed += [before[key], new]
                    inventory_.upsert_links(ENV["name"], [new], conn)
                else:
                    victim = rng.choice(ids[rng.choice("bc")])
                    removed.add(victim)
                    inventory_.delete_links_of(ENV["name"], [victim], conn)
                    inventory_.delete_objects(ENV["name"], [victim], conn)
                    ids = {kind: [i for i in found if i != victim] for kind, found in ids.items()}
                before = stored_links(conn)
            update_cliques(conn, ENV, written, removed, changed)
            assert actual_cliques(conn) == expected_cliques(conn)
    # The batches read the links around their changes, far fewer than rebuilding.
    assert sum(reads) < 12 * first_reads / 3


def test_a_link_is_walked_when_each_constrained_attribute_it_has_holds_a_wanted_value():
    wanted = wanted_values({"network": "n1", "segment": ["s1", "s2"], "zone": None})
    assert wanted == {"network": frozenset({"n1"}), "segment": frozenset({"s1", "s2"})}

    def walked(attributes) -> bool:
        return allowed({"link_type": "a-b", "attributes": attributes}, wanted)

    assert walked(None) and walked({}) and walked({"zone": "z9", "other": 1})
    assert walked({"network": "n1"}) and walked({"network": ["n2", "n1"], "segment": "s2"})
    assert not walked({"network": "n2"}) and not walked({"network": []}) and not walked({"network": None})
    assert not walked({"network": "n1", "segment": "s3"}) and not walked({"segment": ["s3"]})
