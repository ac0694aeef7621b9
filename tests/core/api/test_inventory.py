"""``/inventory``: one object, lists by place in the tree and type, and the past."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_helpers import ENV, assert_error, environment_doc, small_inventory


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["objects"]]


def test_an_id_answers_the_whole_object(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    doc = client.get("/inventory", params={"env_name": ENV, "id": "vnic-1"}).json()
    assert doc["mac_address"] == "fa:16:3e:00:00:01"
    assert doc["id_path"] == f"/{ENV}/node-1/vm-1/vnic-1" and doc["environment"] == ENV
    assert_error(client.get("/inventory", params={"env_name": ENV, "id": "Unkown-Id"}), 404, "Unkown-Id")


def test_a_list_has_id_name_and_name_path(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    objects = client.get("/inventory", params={"env_name": ENV, "type": "instance"}).json()["objects"]
    assert objects == [
        {"id": "vm-1", "type": "instance", "name": "web-1", "name_path": f"/{ENV}/node-1/web-1"},
        {"id": "vm-2", "type": "instance", "name": "web-10", "name_path": f"/{ENV}/node-1/web-10"},
    ]


def test_filters_by_parent_and_path(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    query = {"env_name": ENV}
    assert ids(client.get("/inventory", params={**query, "parent_id": "vm-1"})) == ["vnic-1"]
    assert ids(client.get("/inventory", params={**query, "id_path": f"/{ENV}/node-1/br-1"})) == ["br-1"]
    children = ids(client.get("/inventory", params={**query, "parent_path": f"/{ENV}/node-1"}))
    assert children == ["br-1", "node-1-eth0", "vedge-1", "vm-1", "vm-2"]
    subtree = ids(client.get("/inventory", params={**query, "parent_path": f"/{ENV}/node-1", "sub_tree": "true"}))
    assert subtree == ["br-1", "node-1-eth0", "vedge-1", "vm-1", "vm-2", "vnic-1", "vnic-2"]
    assert_error(client.get("/inventory", params={**query, "sub_tree": "true"}), 400, "sub_tree", "parent_path")


def test_a_parent_path_matches_its_characters_literally(client, api_calipso):
    root = f"/{ENV}"
    api_calipso.inventory.upsert_objects(ENV, [
        {"id": i, "type": "host", "name": i, "id_path": f"{root}/{i}", "name_path": f"{root}/{i}", "parent_id": ENV}
        for i in ("a_%/b", "ab%/b", "a_x/b", "a_%/b/c")])
    query = {"env_name": ENV, "parent_path": f"{root}/a_%"}
    assert ids(client.get("/inventory", params=query)) == ["a_%/b"]
    assert ids(client.get("/inventory", params={**query, "sub_tree": "true"})) == ["a_%/b", "a_%/b/c"]


@pytest.mark.parametrize("query", [{"id": "vm-1"}, {"parent_id": "node-1"}, {"type": "instance"}, {}])
def test_an_unknown_environment_is_400_whatever_is_asked(client, api_calipso, query):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    assert client.get("/inventory", params={"env_name": ENV, **query}).status_code == 200
    assert_error(client.get("/inventory", params={"env_name": "nowhere", **query}), 400, "env_name", "'nowhere'")


def test_an_empty_list_is_an_empty_list(client, api_calipso):
    api_calipso.environments.save(environment_doc("empty-env"))
    assert client.get("/inventory", params={"env_name": "empty-env"}).json() == {"objects": []}
    assert ids(client.get("/inventory", params={"env_name": ENV, "parent_id": "nothing"})) == []


def test_as_of_answers_from_history(client, api_calipso):
    inventory = api_calipso.inventory
    inventory.upsert_objects(ENV, small_inventory())
    before = datetime.now(UTC)
    renamed = {**small_inventory()[2], "name": "web-1-renamed"}
    inventory.upsert_objects(ENV, [renamed])
    inventory.delete_subtree(ENV, "vm-2")
    query = {"env_name": ENV, "as_of": before.isoformat()}
    assert client.get("/inventory", params={**query, "id": "vm-1"}).json()["name"] == "web-1"
    assert client.get("/inventory", params={"env_name": ENV, "id": "vm-1"}).json()["name"] == "web-1-renamed"
    assert ids(client.get("/inventory", params={**query, "type": "instance"})) == ["vm-1", "vm-2"]
    assert ids(client.get("/inventory", params={"env_name": ENV, "type": "instance"})) == ["vm-1"]
    assert ids(client.get("/inventory", params={**query, "parent_path": f"/{ENV}/node-1/vm-2"})) == ["vnic-2"]
    assert ids(client.get("/inventory", params={**query, "type": "instance", "page": 1, "page_size": 1})) == ["vm-2"]
    long_ago = {"env_name": ENV, "as_of": "2001-01-01T00:00:00Z"}
    assert ids(client.get("/inventory", params=long_ago)) == []
    assert_error(client.get("/inventory", params={**long_ago, "id": "vm-1"}), 404, "vm-1", "2001-01-01")
