"""``/links`` and ``/cliques``: one by id, lists filtered by their fields."""

from __future__ import annotations

import pytest
from api_helpers import ENV, assert_error, write_small_graph


@pytest.fixture
def link_ids(api_calipso):
    return write_small_graph(api_calipso)


def test_links_by_type_state_and_attributes(client, link_ids):
    query = {"env_name": ENV}
    found = client.get("/links", params={**query, "link_type": "instance-vnic"}).json()["links"]
    assert [(link["source_id"], link["target_id"]) for link in found] == [("vm-1", "vnic-1"), ("vm-2", "vnic-2")]
    assert set(found[0]) == {"id", "link_type", "link_name", "source_id", "target_id", "state", "environment",
                             "host"}
    assert len(client.get("/links", params={**query, "state": "up"}).json()["links"]) == 7
    assert client.get("/links", params={**query, "state": "down"}).json() == {"links": []}
    by_attribute = client.get("/links", params={**query, "attributes:network": "net-1", "source_id": "br-1"})
    assert [link["target_id"] for link in by_attribute.json()["links"]] == ["vedge-1"]
    assert client.get("/links", params={**query, "attributes[network]": "net-2"}).json() == {"links": []}
    assert client.get("/links", params={**query, "host": "unknown host"}).json() == {"links": []}


def test_one_link_by_id(client, link_ids):
    link_id = link_ids[("vedge-1", "node-1-eth0")]
    link = client.get("/links", params={"env_name": ENV, "id": link_id}).json()
    assert link["link_type"] == "vedge-host_pnic" and link["attributes"] == {"network": "net-1"}
    assert_error(client.get("/links", params={"env_name": ENV, "id": 999999}), 404, "999999")
    assert_error(client.get("/links", params={"env_name": ENV, "id": "58ca73ae3a8a836d10ff3b4"}), 400, "id",
                 "not an integer")


@pytest.mark.parametrize("query, words", [
    ({"link_type": "instance-host"}, ("link_type", "instance-host")),
    ({"state": "wrong"}, ("state", "'wrong' is not a known value of link_states")),
    ({"attributes:": "x"}, ("attributes:", "unknown query parameter")),
])
def test_bad_link_filters_are_400(client, link_ids, query, words):
    assert_error(client.get("/links", params={"env_name": ENV, **query}), 400, *words)


def test_cliques_list_and_one(client, link_ids):
    query = {"env_name": ENV}
    listed = client.get("/cliques", params=query).json()["cliques"]
    assert [c["id"] for c in listed] == ["net-1", "vm-1", "vm-2"]
    assert listed[1] == {"id": "vm-1", "focal_point": "vm-1", "focal_point_type": "instance",
                         "clique_type": "instance", "environment": ENV}
    one = client.get("/cliques", params={**query, "id": "vm-2"}).json()
    assert one["focal_point"] == "vm-2" and link_ids[("vm-2", "vnic-2")] in one["links"]
    assert one["links_detailed"][0]["link_type"] == "instance-vnic"
    assert_error(client.get("/cliques", params={**query, "id": "vm-3"}), 404, "vm-3")


def test_cliques_filters(client, link_ids):
    def focal_points(**filters):
        response = client.get("/cliques", params={"env_name": ENV, **filters})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["cliques"]]

    assert focal_points(focal_point_type="network") == ["net-1"]
    assert focal_points(focal_point="vm-1") == ["vm-1"]
    assert focal_points(link_id=link_ids[("vm-1", "vnic-1")]) == ["net-1", "vm-1"]
    assert focal_points(link_id=max(link_ids.values()) + 1) == []
    assert focal_points(link_type="host_pnic-network") == ["net-1", "vm-1", "vm-2"]
    assert focal_points(link_type="vnic-vedge") == []
    assert_error(client.get("/cliques", params={"env_name": ENV, "focal_point_type": "wrong-object-type"}), 400,
                 "focal_point_type")
