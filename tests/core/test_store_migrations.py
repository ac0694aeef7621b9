"""Schema revisions on a real PostgreSQL: history written under one revision reads the same
under the next, and back."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, make_url, text

from calipso_core import db
from calipso_core.store import as_of
from calipso_core.store.inventory import Inventory, content_hash

ENV = "migrated"
SCHEMA = "calipso_migration_test"


@pytest.fixture
def engine(calipso_database_url):
    """An engine whose tables live in a schema of their own, empty at first."""
    url = make_url(calipso_database_url)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    engine = db.get_engine(url.update_query_dict({"options": f"-csearch_path={SCHEMA}"})
                           .render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    admin.dispose()


def now(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT clock_timestamp()").scalar()


def write_history(engine, store: Inventory, suffix: str) -> list:
    """Add, change and delete objects and a link; the moments in between. Objects and links
    are written by plain SQL, which every revision takes (today's writer also stores each
    row's digest, a column of revisions 0007 and 0008)."""
    insert = text("INSERT INTO inventory (environment, id, type, name, parent_id, id_path, name_path, doc)"
                  " VALUES (:env, :id, 'host', :id, :env, '/' || :env || '/' || :id, '/' || :env || '/' || :id, '{}')")
    link = {"env": ENV, "source": f"a{suffix}", "target": f"b{suffix}"}
    with engine.begin() as conn:
        conn.execute(insert, [{"env": ENV, "id": f"{name}{suffix}"} for name in "abc"])
        conn.execute(text("INSERT INTO links (environment, link_type, source_id, target_id, doc)"
                          " VALUES (:env, 'host-host', :source, :target, '{}')"), link)
    moments = [now(engine)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE inventory SET name = 'renamed', last_scanned = :t WHERE id = :id"),
                     {"t": moments[0], "id": f"b{suffix}"})
    store.delete_objects(ENV, [f"c{suffix}"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE links SET link_name = 'named' WHERE source_id = :source AND target_id = :target"),
                     link)
    return [*moments, now(engine)]


def released_as_of(engine, moment, kind: str) -> list:
    """``as_of`` as revision 0001 answered it, from ``history`` alone."""
    query = text("SELECT doc FROM history WHERE environment = :env AND kind = :kind AND valid_from <= :t"
                 " AND (valid_to IS NULL OR valid_to > :t) ORDER BY key")
    with engine.connect() as conn:
        return list(conn.execute(query, {"env": ENV, "kind": kind, "t": moment}).scalars())


def test_history_survives_the_upgrade_to_past_versions_only_and_back(engine):
    store = Inventory(engine)
    db.upgrade(engine, "0001")
    moments = write_history(engine, store, "1")
    before = {(m, k): released_as_of(engine, m, k) for m in moments for k in ("object", "link")}
    assert [d["name"] for d in before[moments[0], "object"]] == ["a1", "b1", "c1"]

    db.upgrade(engine)
    assert {(m, k): as_of(engine, ENV, m, k) for m in moments for k in ("object", "link")} == before
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM history WHERE valid_to IS NULL").scalar() == 0
    moments += write_history(engine, store, "2")
    answers = {(m, k): as_of(engine, ENV, m, k) for m in moments for k in ("object", "link")}
    assert [d["name"] for d in answers[moments[-1], "object"]] == ["a1", "a2", "renamed", "renamed"]

    command.downgrade(db._alembic_config(engine), "0001")
    assert {(m, k): released_as_of(engine, m, k) for m in moments for k in ("object", "link")} == answers
    indexes = {index["name"] for index in inspect(engine).get_indexes("history")}
    assert "ux_history_current" in indexes
    moments += write_history(engine, store, "3")  # the released triggers work again

    db.upgrade(engine)
    assert [d["name"] for d in as_of(engine, ENV, moments[-1])] == ["a1", "a2", "a3", *["renamed"] * 3]
    assert as_of(engine, ENV, moments[0]) == before[moments[0], "object"]


def test_a_cliques_nodes_and_constraints_move_to_their_columns_and_back(engine):
    db.upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE cliques DROP COLUMN nodes, DROP COLUMN constraints")  # as 0005 had it
        conn.exec_driver_sql(
            "INSERT INTO cliques (environment, focal_point, focal_point_type, clique_type, doc) VALUES"
            " (%(env)s, 'vm-1', 'instance', 'instance', %(doc)s)",
            {"env": ENV, "doc": '{"nodes": ["vm-1", "vnic-1"], "constraints": {"network": ["n1"]}, "links": [7]}'})
    db.upgrade(engine)
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT nodes, constraints, doc FROM cliques").one()
        hit = conn.exec_driver_sql("SELECT focal_point FROM cliques WHERE nodes @> ARRAY['vnic-1']::varchar[]")
        assert hit.scalars().all() == ["vm-1"]
    assert row == (["vm-1", "vnic-1"], {"network": ["n1"]}, {"links": [7]})
    assert {"ix_cliques_node_ids"} == {i["name"] for i in inspect(engine).get_indexes("cliques")} - {
        "ix_cliques_environment_focal_point_type"}

    command.downgrade(db._alembic_config(engine), "0005")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT doc FROM cliques").scalar_one() == {
            "nodes": ["vm-1", "vnic-1"], "constraints": {"network": ["n1"]}, "links": [7]}
    assert "ix_cliques_nodes" in {i["name"] for i in inspect(engine).get_indexes("cliques")}


def test_an_objects_digest_is_kept_until_a_writer_changes_it_without_one(engine):
    db.upgrade(engine)
    store = Inventory(engine)
    host = {"id": "h1", "type": "host", "name": "h1", "id_path": f"/{ENV}/h1", "name_path": f"/{ENV}/h1", "cpu": 4}
    store.upsert_objects(ENV, [{**host, "doc_hash": content_hash(host)}])

    def digest():
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT doc_hash FROM inventory WHERE id = 'h1'").scalar_one()

    assert digest() == content_hash(host) and store.get(ENV, "h1") == {**host, "environment": ENV}
    store.upsert_objects(ENV, [host])  # the same document, no digest given
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE inventory SET last_scanned = now() WHERE id = 'h1'")  # no new version
    assert digest() == content_hash(host)
    store.upsert_objects(ENV, [{**host, "cpu": 8}])
    assert digest() is None
    store.upsert_objects(ENV, [{**host, "doc_hash": content_hash(host)}])
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE inventory SET status = 'error' WHERE id = 'h1'")
    assert digest() is None

    command.downgrade(db._alembic_config(engine), "0006")
    assert "doc_hash" not in {c["name"] for c in inspect(engine).get_columns("inventory")}
    with engine.begin() as conn:  # versions start as before
        conn.exec_driver_sql("UPDATE inventory SET status = 'ok' WHERE id = 'h1'")
        assert conn.exec_driver_sql("SELECT count(*) FROM history WHERE key = 'h1'").scalar() == 4


def test_a_links_and_a_cliques_digest_are_kept_until_a_writer_changes_them_without_one(engine):
    db.upgrade(engine)
    store = Inventory(engine)
    link = {"link_type": "host-host", "source_id": "h1", "target_id": "h2", "link_name": "h1-h2"}
    store.upsert_links(ENV, [{**link, "doc_hash": content_hash(link)}])
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO cliques (environment, focal_point, focal_point_type, clique_type,"
                             " nodes, doc, doc_hash) VALUES (%(env)s, 'h1', 'host', 'host', '{h1,h2}', '{}', 'x')",
                             {"env": ENV})

    def digests():
        with engine.connect() as conn:
            return (conn.exec_driver_sql("SELECT doc_hash FROM links").scalar_one(),
                    conn.exec_driver_sql("SELECT doc_hash FROM cliques").scalar_one())

    assert digests() == (content_hash(link), "x")
    assert "doc_hash" not in store.find_links(ENV)[0]
    store.upsert_links(ENV, [link])  # the same link, no digest given
    with engine.begin() as conn:  # a clique stamped again, unchanged
        conn.exec_driver_sql("UPDATE cliques SET last_scanned = now()")
    assert digests() == (content_hash(link), "x")
    store.upsert_links(ENV, [{**link, "link_name": "renamed"}])
    with engine.begin() as conn:  # as the listener writes a clique it recomputed
        conn.exec_driver_sql("UPDATE cliques SET nodes = '{h1,h2,h3}'")
    assert digests() == (None, None)
    with engine.begin() as conn:  # a writer that gives a digest keeps it
        conn.exec_driver_sql("UPDATE cliques SET nodes = '{h1}', doc_hash = 'y'")
    assert digests()[1] == "y"

    command.downgrade(db._alembic_config(engine), "0007")
    for table in ("links", "cliques"):
        assert "doc_hash" not in {c["name"] for c in inspect(engine).get_columns(table)}
    with engine.begin() as conn:  # links' versions start as before, cliques are written as before
        conn.exec_driver_sql("UPDATE links SET state = 'down'")
        conn.exec_driver_sql("UPDATE cliques SET nodes = '{h2}'")
        assert conn.exec_driver_sql("SELECT count(*) FROM history WHERE kind = 'link'").scalar() == 2


def test_a_large_clique_is_stored_as_it_is_and_compressed_again_after_a_downgrade(engine):
    db.upgrade(engine)
    nodes = [f"vnic-{i:05d}-on-the-same-network" for i in range(2000)]  # 70 kB, most of it alike
    write = text("INSERT INTO cliques (environment, focal_point, focal_point_type, clique_type, nodes, doc)"
                 " VALUES (:env, :focal, 'network', 'network', :nodes, CAST(:doc AS jsonb))")

    def stored_sizes(focal: str) -> tuple[int, int]:
        with engine.begin() as conn:
            conn.execute(write, {"env": ENV, "focal": focal, "nodes": nodes,
                                 "doc": json.dumps({"links": list(range(10_000, 20_000))})})
            return tuple(conn.execute(text("SELECT pg_column_size(nodes), pg_column_size(doc) FROM cliques"
                                           " WHERE focal_point = :focal"), {"focal": focal}).one())

    whole = stored_sizes("net-1")
    command.downgrade(db._alembic_config(engine), "0008")
    compressed = stored_sizes("net-2")
    assert whole[0] > 60_000 and whole[1] > 50_000
    assert compressed[0] < whole[0] / 3 and compressed[1] < whole[1] / 2
