"""The inventory repository on a real PostgreSQL: bulk upsert, tree queries, history."""

from __future__ import annotations

import time

from sqlalchemy import event, select

from calipso_core.store import as_of, diff
from calipso_core.store.tables import history

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
    statements = count_statements(inventory.engine)
    assert inventory.upsert_objects(ENV, [obj("host-x", host="host-x")]) == 1
    few = len(statements)
    statements.clear()
    docs = [obj(f"host-{i}", host=f"host-{i}", note="tab\there\nnewline \\ backslash") for i in range(2500)]
    assert inventory.upsert_objects(ENV, docs) == 2500
    assert len(statements) == few  # not one round trip per object
    assert inventory.count(ENV) == 2501
    assert inventory.get(ENV, "host-7")["note"] == "tab\there\nnewline \\ backslash"


def test_upsert_replaces_the_document_and_keeps_status(inventory):
    region, host, *_ = tree()
    inventory.upsert_objects(ENV, [region, {**host, "status": "Error", "extra": 1}])
    inventory.upsert_objects(ENV, [{**host, "extra": 2}])
    stored = inventory.get(ENV, "node-1")
    assert stored["extra"] == 2
    assert stored["status"] == "Error"
    assert stored["services"] == {"nova-compute": {"active": True}}


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
    with engine.connect() as conn:
        versions = conn.execute(select(history.c.key).where(history.c.key == "node-1")).all()
    assert len(versions) == 1


def now(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT clock_timestamp()").scalar()
