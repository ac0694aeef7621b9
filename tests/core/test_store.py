"""The inventory repository on a real PostgreSQL: bulk upsert, tree queries, history."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import Boolean, create_engine, event, insert, literal_column, make_url, select, update

from calipso_core import graph
from calipso_core.events.cliques import touched_cliques
from calipso_core.events.relink import HostView, hostless_types
from calipso_core.store import as_of, diff
from calipso_core.store import inventory as store_inventory
from calipso_core.store.inventory import COPIED_ABOVE, doc_contains
from calipso_core.store.tables import cliques as cliques_table
from calipso_core.store.tables import history
from calipso_core.store.tables import inventory as inventory_table
from calipso_core.store.tables import links as links_table

ENV = "test-env"


def obj(object_id, parent=None, **fields):
    parent_path = parent["id_path"] if parent else f"/{ENV}"
    parent_names = parent["name_path"] if parent else f"/{ENV}"
    name = fields.pop("name", object_id)
    return {
        "id": object_id, "type": fields.pop("type", "host"), "name": name,
        "parent_id": parent["id"] if parent else ENV, "id_path": f"{parent_path}/{object_id}",
        "name_path": f"{parent_names}/{name}", **fields,
    }


def tree():
    region = obj("RegionOne", type="region")
    host = obj("node-1", region, host="node-1", services={"nova-compute": {"active": True}})
    vm = obj("vm-1", host, type="instance", host="node-1", network=["net-a"])
    vm2 = obj("vm_2%", host, type="instance", host="node-1", network=["net-b"])
    other = obj("node-10", region, host="node-10")
    return [region, host, vm, vm2, other]


def count_statements(engine):
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_bulk_upsert_costs_the_same_statements_for_any_number_of_objects(inventory):
    """A few documents go in one statement; more are first copied into a staging table."""
    statements = count_statements(inventory.engine)
    counts = {}
    for n in (1, COPIED_ABOVE, COPIED_ABOVE + 1, 2500):
        statements.clear()
        docs = [obj(f"host-{n}-{i}", host=f"host-{n}-{i}", note="tab\there\nnewline \\ backslash") for i in range(n)]
        assert inventory.upsert_objects(ENV, docs) == n
        counts[n] = len(statements)
    assert counts[1] == counts[COPIED_ABOVE] < counts[COPIED_ABOVE + 1] == counts[2500]  # not a round trip an object
    assert any(s.startswith("MERGE") and "calipso_staging" in s for s in statements)
    assert inventory.count(ENV) == 1 + 2 * COPIED_ABOVE + 1 + 2500
    for object_id in ("host-1-0", "host-2500-7"):
        assert inventory.get(ENV, object_id)["note"] == "tab\there\nnewline \\ backslash"


def test_copy_rows_writes_every_value_as_given(inventory):
    """Rows COPYed in: text with tabs, newlines and backslashes, NULL, times, JSON, arrays."""
    when = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    odd = "tab\there\nnew line\r\\N \\ back\\slash é"
    nodes = [odd, '"quoted", {braced}', "NULL", ""]
    rows = [{"environment": ENV, "focal_point": f"vm-{i}", "focal_point_type": "instance", "clique_type": odd,
             "last_scanned": when if i else None, "nodes": [*nodes, f"vm-{i}"],
             "doc": {"tags": [odd, i], "links": [], "nested": {"k": odd}}}
            for i in range(2500)]
    statements = count_statements(inventory.engine)
    with inventory.engine.begin() as conn:
        store_inventory.copy_rows(conn, cliques_table, rows)
        store_inventory.copy_rows(conn, cliques_table, [])
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    with inventory.engine.connect() as conn:
        query = select(cliques_table).where(cliques_table.c.environment == ENV)
        stored = {r.focal_point: r for r in conn.execute(query)}
    assert len(stored) == 2500
    assert stored["vm-0"].last_scanned is None and stored["vm-7"].last_scanned == when
    assert stored["vm-7"].clique_type == odd
    assert stored["vm-7"].doc == {"tags": [odd, 7], "links": [], "nested": {"k": odd}}
    assert stored["vm-7"].nodes == [*nodes, "vm-7"] and stored["vm-0"].constraints is None


@pytest.mark.parametrize("copied_above", [COPIED_ABOVE, 0], ids=["given", "copied"])
@pytest.mark.parametrize("server", [(16, 2), (14, 11)], ids=["merge", "insert-on-conflict"])
def test_upsert_replaces_the_document_and_keeps_status(inventory, monkeypatch, server, copied_above):
    """Both forms of the write (MERGE, and INSERT ON CONFLICT before PostgreSQL 15), the
    documents given in the statement or copied first, one large enough to be stored out of
    line."""
    monkeypatch.setattr(inventory.engine.dialect, "server_version_info", server)
    monkeypatch.setattr(store_inventory, "COPIED_ABOVE", copied_above)
    region, host, *_ = tree()
    tunnels = {f"vxlan-{i}": {"options": {"remote_ip": f"10.0.{i // 250}.{i % 250}"}} for i in range(400)}
    inventory.upsert_objects(ENV, [region, {**host, "status": "Error", "extra": 1, "tunnel_ports": tunnels}])
    inventory.upsert_objects(ENV, [{**host, "extra": 2, "tunnel_ports": tunnels}])
    stored = inventory.get(ENV, "node-1")
    assert stored["extra"] == 2
    assert stored["status"] == "Error"
    assert stored["services"] == {"nova-compute": {"active": True}}
    assert stored["tunnel_ports"] == tunnels and stored["name"] == host["name"]


def test_an_object_inserted_meanwhile_by_another_transaction_is_updated(inventory):
    """A bulk write blocked on a key that another transaction is inserting writes over it
    once that one commits (the write statement is tried again), rather than failing."""
    region, host, *_ = tree()
    with inventory.engine.begin() as first:
        inventory.upsert_objects(ENV, [{**host, "extra": "first"}], conn=first)
        second = threading.Thread(target=inventory.upsert_objects,
                                  args=(ENV, [region, {**host, "extra": "second"}]))
        second.start()
        time.sleep(0.5)  # the second write now waits for this transaction
        assert second.is_alive()
    second.join(30)
    assert not second.is_alive()
    assert inventory.get(ENV, "node-1")["extra"] == "second"
    assert inventory.get(ENV, "RegionOne") is not None


def test_children_subtree_and_find(inventory):
    inventory.upsert_objects(ENV, tree())
    assert [d["id"] for d in inventory.children(ENV, "node-1")] == ["vm-1", "vm_2%"]
    # node-10's id_path starts with node-1's text: a subtree is by path segment, not prefix.
    assert [d["id"] for d in inventory.subtree(ENV, "node-1")] == ["node-1", "vm-1", "vm_2%"]
    assert [d["id"] for d in inventory.find(ENV, {"type": "instance", "network": ["net-b"]})] == ["vm_2%"]
    assert [d["id"] for d in inventory.find(ENV, {"services": {"nova-compute": {"active": True}}})] == ["node-1"]
    assert inventory.find("other-env", {"type": "instance"}) == []


def test_delete_subtree_removes_objects_and_their_links(inventory):
    inventory.upsert_objects(ENV, tree())
    inventory.upsert_links(ENV, [
        {"link_type": "instance-vnic", "source_id": "vm-1", "target_id": "x", "link_name": "a"},
        {"link_type": "host-host", "source_id": "node-10", "target_id": "RegionOne", "link_name": "b"},
    ])
    assert sorted(inventory.delete_subtree(ENV, "node-1")) == ["node-1", "vm-1", "vm_2%"]
    assert inventory.get(ENV, "vm-1") is None
    assert inventory.get(ENV, "node-10") is not None
    assert [link["link_name"] for link in inventory.find_links(ENV)] == ["b"]


def test_as_of_and_diff(calipso, inventory):
    engine = calipso.engine
    inventory.upsert_objects(ENV, tree())
    inventory.upsert_links(ENV, [{"link_type": "instance-vnic", "source_id": "vm-1", "target_id": "v1"}])
    time.sleep(0.01)
    t1 = now(engine)
    # Rescanning the same objects (only last_scanned moves) is not a change.
    inventory.upsert_objects(ENV, [{**d, "last_scanned": t1} for d in tree()])
    inventory.upsert_objects(ENV, [{**tree()[2], "name": "renamed", "state": "active"}])
    inventory.delete_subtree(ENV, "vm_2%")
    inventory.upsert_objects(ENV, [obj("node-2", tree()[0])])
    t2 = now(engine)

    before = {d["id"]: d for d in as_of(engine, ENV, t1)}
    assert set(before) == {"RegionOne", "node-1", "vm-1", "vm_2%", "node-10"}
    assert before["vm-1"]["name"] == "vm-1"
    after = {d["id"] for d in as_of(engine, ENV, t2)}
    assert after == {"RegionOne", "node-1", "vm-1", "node-10", "node-2"}

    changes = diff(engine, ENV, t1, t2)
    objects = changes["objects"]
    assert [d["id"] for d in objects["added"]] == ["node-2"]
    assert [d["id"] for d in objects["removed"]] == ["vm_2%"]
    assert objects["changed"] == [{
        "key": "vm-1", "type": "instance",
        "changes": {"name": {"from": "vm-1", "to": "renamed"},
                    "state": {"from": None, "to": "active"}},
    }]
    assert changes["links"]["removed"] == [] and changes["links"]["added"] == []
    assert history_rows(engine, key="node-1") == []  # the rescan ended no version


def now(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT clock_timestamp()").scalar()


def history_rows(engine, kind="object", key=None):
    query = select(history.c.key, history.c.valid_from, history.c.valid_to, history.c.doc).where(history.c.kind == kind)
    if key:
        query = query.where(history.c.key == key)
    with engine.connect() as conn:
        return conn.execute(query.order_by(history.c.valid_from)).all()


def changed_value(column, value):
    if column.name == "doc":
        return {**value, "changed": True}
    return (not value) if isinstance(column.type, Boolean) else f"{value}+"


@pytest.mark.parametrize("table", [inventory_table, links_table])
def test_a_change_to_any_column_but_last_scanned_ends_a_version(calipso, inventory, table):
    """Each update, however written, keeps the version it ended: one history row per
    changed column, spans end to end up to the current version; rescans (last_scanned
    only) keep none."""
    engine = calipso.engine
    region, host, *_ = tree()
    inventory.upsert_objects(ENV, [region, host])
    inventory.upsert_links(ENV, [{"link_type": "l", "source_id": "node-1", "target_id": "RegionOne"}])
    kind, row = ("object", table.c.id == "node-1") if table is inventory_table else ("link", table.c.id == 1)
    changing = [c for c in table.c if c.name not in ("environment", "id", "last_scanned")]
    for column in [table.c.last_scanned, *changing, table.c.last_scanned]:
        with engine.begin() as conn:
            old = conn.execute(select(column).where(row)).scalar()
            new = now(engine) if column.name == "last_scanned" else changed_value(column, old)
            conn.execute(update(table).where(row).values({column.name: new}))
    ended = history_rows(engine, kind)
    assert len(ended) == len(changing)
    assert ended[0].key in ("node-1", "l|node-1|RegionOne") and ended[0].doc.get("changed") is None
    with engine.connect() as conn:
        current = conn.execute(select(literal_column("valid_from")).select_from(table).where(row)).scalar()
    assert [v.valid_to for v in ended] == [v.valid_from for v in ended[1:]] + [current]


def test_identical_documents_are_not_written_again(calipso, inventory):
    inventory.upsert_objects(ENV, tree())
    assert inventory.upsert_objects(ENV, tree()) == 0
    docs = tree()
    docs[1] = {**docs[1], "extra": 1}  # node-1
    assert inventory.upsert_objects(ENV, docs) == 1
    assert len(history_rows(calipso.engine, key="node-1")) == 1


def test_a_version_written_and_changed_in_one_transaction_leaves_no_empty_span(calipso, inventory):
    with calipso.engine.begin() as conn:
        inventory.upsert_objects(ENV, tree(), conn)
        inventory.upsert_objects(ENV, [{**tree()[1], "extra": 1}], conn)
        inventory.delete_subtree(ENV, "vm-1", conn)
    assert history_rows(calipso.engine) == []
    assert inventory.get(ENV, "node-1")["extra"] == 1


def test_link_history(calipso, inventory):
    engine = calipso.engine
    link = {"link_type": "instance-vnic", "source_id": "vm-1", "target_id": "v1", "link_name": "a"}
    inventory.upsert_links(ENV, [link])
    t1 = now(engine)
    inventory.upsert_links(ENV, [{**link, "link_name": "b", "implicit": True}])
    t2 = now(engine)
    inventory.delete_links(ENV, [("instance-vnic", "vm-1", "v1")])
    t3 = now(engine)
    assert [(d["link_name"], d["implicit"]) for d in as_of(engine, ENV, t1, "link")] == [("a", False)]
    assert [(d["link_name"], d["implicit"]) for d in as_of(engine, ENV, t2, "link")] == [("b", True)]
    assert as_of(engine, ENV, t3, "link") == []
    changed = diff(engine, ENV, t1, t2)["links"]["changed"]
    assert changed == [{"key": "instance-vnic|vm-1|v1", "type": "instance-vnic",
                        "changes": {"implicit": {"from": False, "to": True}, "link_name": {"from": "a", "to": "b"}}}]
    assert [d["link_name"] for d in diff(engine, ENV, t2, t3)["links"]["removed"]] == ["b"]


def plans(engine, action, table: str = "inventory") -> list[str]:
    """The plans of the queries on ``table`` that ``action`` runs."""
    found = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT") and (f"FROM {table}" in statement or f"JOIN {table} " in statement):
            cursor.execute("EXPLAIN " + statement, parameters)
            found.append("\n".join(row[0] for row in cursor.fetchall()))

    event.listen(engine, "before_cursor_execute", explain)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    return found


def test_lookups_are_indexed(calipso, inventory):
    """By id, by parent, by subtree and by containment, with sequential scans ruled out."""
    hosts = [obj(f"host-{i}", host=f"host-{i}") for i in range(20)]
    inventory.upsert_objects(ENV, [*hosts, *(obj(f"vm-{i}", hosts[i % 20], type="instance", network=[f"net-{i}"])
                                            for i in range(2000))])
    with calipso.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE inventory")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for action, index in [
            (lambda: inventory.get(ENV, "vm-3", conn), "inventory_pkey"),
            (lambda: inventory.children(ENV, "host-3", conn), "ix_inventory_environment_parent_id"),
            (lambda: inventory.subtree(ENV, "host-3", conn=conn), "ix_inventory_id_path"),
            (lambda: inventory.find(ENV, {"network": ["net-3"]}, conn=conn), "ix_inventory_searched"),
            (lambda: any_network(conn, "net-3", "net-5"), "ix_inventory_searched"),
        ]:
            assert index in plans(calipso.engine, action)[-1]
        assert any_network(conn, "net-3", "net-5", "net-9999") == ["vm-3", "vm-5"]


def any_network(conn, *networks: str) -> list[str]:
    query = select(inventory_table.c.id).where(doc_contains(inventory_table, *({"network": [n]} for n in networks)))
    return sorted(conn.scalars(query))


def test_port_maps_are_found_outside_the_index_and_can_be_left_unread(inventory):
    """The index leaves out a switch's port maps: a match on them still finds the object;
    and a reader can leave them in the database (the scan's and a relink's)."""
    tunnels = {f"vxlan-{i}": {"type": "vxlan", "options": {"remote_ip": f"10.0.0.{i}"}} for i in range(50)}
    ports = {"qvo1": {"id": "3", "tag": 1}}
    inventory.upsert_objects(ENV, [obj("host-1", host="host-1"), obj(
        "vedge-1", type="vedge", host="host-1", tunnel_ports=tunnels, ports=ports, agent_type="ovs"),
        obj("host-2", host="host-2"), obj("vedge-2", type="vedge", host="host-2"),
        obj("net-1", type="network")])
    assert [o["id"] for o in inventory.find(ENV, {"tunnel_ports": {"vxlan-7": {"type": "vxlan"}}})] == ["vedge-1"]
    assert inventory.find(ENV, {"tunnel_ports": {"vxlan-7": {"type": "gre"}}}) == []
    assert [o["id"] for o in inventory.find(ENV, {"agent_type": "ovs"})] == ["vedge-1"]
    [whole, _] = inventory.find(ENV, {"type": "vedge"})
    [light, _] = inventory.find(ENV, {"type": "vedge"}, without=("tunnel_ports", "no_such_field"))
    assert whole["tunnel_ports"] == tunnels
    assert light == {k: v for k, v in whole.items() if k != "tunnel_ports"} and light["ports"] == ports
    with inventory.engine.connect() as conn:
        event = SimpleNamespace(environment={"name": ENV, "configuration": []}, inventory=inventory, name=ENV,
                                conn=conn)
        view = HostView(event, ["host-1"], {}, hostless_types(conn, ENV))
        assert view.objects("vedge", without=("tunnel_ports",)) == [light]
        assert view.objects("vedge") == [whole]
        assert [o["id"] for o in view.objects("network")] == ["net-1"]


def test_cliques_are_found_by_their_nodes_through_the_index_of_nodes(calipso, inventory, calipso_database_url):
    """By the listener (any of the ends of changed links), ``/graph`` (the cliques through an
    object) and ``/impact`` (through any object of a subtree)."""
    host = obj("host-1", host="host-1")
    inventory.upsert_objects(ENV, [host, obj("vm-1", host, type="instance", host="host-1")])
    with calipso.engine.begin() as conn:
        conn.execute(insert(cliques_table), [
            {"environment": ENV, "focal_point": f"vm-{i}", "focal_point_type": "instance", "clique_type": "instance",
             "nodes": [f"vm-{i}", f"vnic-{i}", "host-1" if i == 1 else "host-2"], "doc": {"links": [i]}}
            for i in range(1, 5000)])
        conn.exec_driver_sql("ANALYZE cliques")
    chosen = {"instance": {"name": "instance", "link_types": ["instance-vnic"]}}
    changed = [{"link_type": "instance-vnic", "source_id": "vm-1", "target_id": "vnic-1"}]
    no_scans = create_engine(make_url(calipso_database_url).update_query_dict({"options": "-cenable_seqscan=off"}))
    try:
        with no_scans.begin() as conn:
            for action in (lambda: touched_cliques(conn, ENV, chosen, {}, set(), {"vnic-1"}, changed),
                           lambda: graph.clique_graph(conn, ENV, "vnic-1"),
                           lambda: graph.impact(no_scans, ENV, "host-1")):
                found = plans(no_scans, action, "cliques")
                assert any("ix_cliques_node_ids" in plan for plan in found), "\n\n".join(found)
                assert not any("Seq Scan on cliques" in plan for plan in found)
        assert [i["id"] for i in graph.impact(calipso.engine, ENV, "host-1")["impact"]["instances"]] == ["vm-1"]
    finally:
        no_scans.dispose()


def test_objects_moved_only_with_their_ancestor_cost_no_statement_of_their_own(inventory):
    """A network renamed with its ports rewritten: one UPDATE moves what is below all of
    them; a port renamed itself as well still moves its own subtree."""
    net = obj("net-1", type="network", name="old")
    ports = [obj(f"port-{i}", net, type="port") for i in range(30)]
    leaves = [obj(f"leaf-{i}", port, type="vnic") for i, port in enumerate(ports)]
    inventory.upsert_objects(ENV, [net, *ports, *leaves])
    renamed = {**net, "name": "new", "name_path": f"/{ENV}/new"}
    rewritten = [{**p, "name_path": f"/{ENV}/new/{p['name']}"} for p in ports[:-1]]
    own = {**ports[-1], "name": "own", "name_path": f"/{ENV}/new/own"}
    inventory.upsert_objects(ENV, [renamed, *rewritten, own])
    statements = count_statements(inventory.engine)
    inventory.move_name_paths(ENV, [(net, renamed["name_path"]), *((p, r["name_path"]) for p, r in
                                                                    zip(ports, [*rewritten, own], strict=True))])
    assert len([s for s in statements if s.startswith("UPDATE")]) == 2  # the network's and the renamed port's
    paths = {d["id"]: d["name_path"] for d in inventory.find(ENV, {"type": "vnic"})}
    assert paths["leaf-0"] == f"/{ENV}/new/port-0/leaf-0" and paths["leaf-29"] == f"/{ENV}/new/own/leaf-29"
    assert len(paths) == 30 and all(p.startswith(f"/{ENV}/new/") for p in paths.values())
