"""``/search``, ``/graph``, ``/impact``, ``/diff`` and ``/health`` (and the queries of
``calipso_core.graph`` behind the first three)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from api_helpers import ENV, HTTP_TIMEOUT, TOKEN, assert_error, serve, small_inventory, write_small_graph

from calipso_core.api import create_app
from calipso_core.context import Calipso
from calipso_core.graph import link_path, nearest_path
from calipso_core.store.tables import scans


@pytest.fixture
def link_ids(api_calipso):
    return write_small_graph(api_calipso)


def found(client, **query) -> list[tuple[str, str]]:
    response = client.get("/search", params={"env_name": ENV, **query})
    assert response.status_code == 200, response.text
    return [(o["id"], o["matched"]) for o in response.json()["objects"]]


def test_search_ranks_exact_then_prefix_then_substring_then_attributes(client, link_ids):
    assert found(client, q="WEB-1") == [("vm-1", "name"), ("vm-2", "name")]
    assert found(client, q="eb-1") == [("vm-1", "name"), ("vm-2", "name")]
    assert found(client, q="web-10") == [("vm-2", "name")]
    assert found(client, q="fa:16:3e:00:00:0") == [("vnic-1", "mac_address"), ("vnic-2", "mac_address")]
    assert found(client, q="192.0.2.10") == [("node-1-eth0", "IP Address")]
    assert found(client, q="10.0.0.5") == [("port-1", "fixed_ips")]
    assert found(client, q="10.0.0.0/24") == [("net-1", "cidrs")]
    assert found(client, query="node-1", type="vconnector") == [("br-1", "host")]
    assert found(client, q="100%_") == []
    assert found(client, q="web", page=1, page_size=1) == [("vm-2", "name")]
    assert_error(client.get("/search", params={"env_name": ENV}), 400, "q", "required")


def test_the_graph_of_a_focal_point(client, link_ids):
    graph = client.get("/graph", params={"env_name": ENV, "focal_point": "vm-1"}).json()
    assert graph["cliques"] == ["vm-1"]
    assert [n["id"] for n in graph["nodes"]] == ["vm-1", "vnic-1", "br-1", "vedge-1", "node-1-eth0", "net-1"]
    assert {"id": "vedge-1", "type": "vedge", "name": "OVS on node-1", "status": "OK"} in graph["nodes"]
    first = graph["links"][0]
    assert first == {"id": link_ids[("vm-1", "vnic-1")], "source": "vm-1", "target": "vnic-1",
                     "link_type": "instance-vnic", "link_name": "vm-1-vnic-1", "state": "up", "status": None}
    assert len(graph["links"]) == 5


def test_the_graph_of_an_object_in_cliques(client, link_ids):
    graph = client.get("/graph", params={"env_name": ENV, "focal_point": "br-1"}).json()
    assert graph["cliques"] == ["net-1", "vm-1", "vm-2"]
    assert {n["id"] for n in graph["nodes"]} == {"br-1", "vm-1", "vm-2", "vnic-1", "vnic-2", "vedge-1",
                                                  "node-1-eth0", "net-1"}
    assert len(graph["links"]) == 7
    alone = client.get("/graph", params={"env_name": ENV, "focal_point": "port-1"}).json()
    assert alone["nodes"] == [{"id": "port-1", "type": "port", "name": "port-1", "status": None}]
    assert alone["links"] == []
    assert_error(client.get("/graph", params={"env_name": ENV, "focal_point": "nothing"}), 404, "nothing")


def test_the_graph_in_an_unknown_environment_is_400(client, link_ids):
    assert_error(client.get("/graph", params={"env_name": "nowhere", "focal_point": "vm-1"}), 400,
                 "env_name", "'nowhere'")


def test_the_impact_of_a_pnic(client, link_ids):
    report = client.get("/impact", params={"env_name": ENV, "id": "node-1-eth0"}).json()
    assert report["object"]["type"] == "host_pnic"
    impact = report["impact"]
    assert [i["id"] for i in impact["instances"]] == ["vm-1", "vm-2"]
    assert [n["id"] for n in impact["networks"]] == ["net-1"]
    assert impact["vservices"] == []
    path = [(link["source_id"], link["target_id"]) for link in impact["instances"][0]["path"]]
    assert path == [("vedge-1", "node-1-eth0"), ("br-1", "vedge-1"), ("vnic-1", "br-1"), ("vm-1", "vnic-1")]
    assert impact["networks"][0]["path"][0]["link_type"] == "host_pnic-network"
    assert impact["projects"] == [{"id": "proj-1", "type": "project", "name": "demo", "status": None,
                                   "via": ["net-1", "vm-1", "vm-2"]}]
    assert [(h["id"], h["via"]) for h in impact["hosts"]] == [("node-1", ["vm-1", "vm-2"])]
    assert report["counts"] == {"instances": 2, "vservices": 0, "networks": 1, "projects": 1, "hosts": 1}


def test_the_impact_of_an_instance_and_of_nothing(client, link_ids):
    report = client.get("/impact", params={"env_name": ENV, "id": "vm-1"}).json()
    assert [n["id"] for n in report["impact"]["networks"]] == ["net-1"]
    assert report["impact"]["instances"] == []
    assert_error(client.get("/impact", params={"env_name": ENV, "id": "nothing"}), 404, "nothing")
    assert_error(client.get("/impact", params={"env_name": ENV}), 400, "id", "required")


def test_link_path_walks_links_either_way():
    links = [{"id": 1, "source_id": "a", "target_id": "b"}, {"id": 2, "source_id": "c", "target_id": "b"},
             {"id": 3, "source_id": "a", "target_id": "c"}, {"id": 4, "source_id": "c", "target_id": "d"}]
    assert [link["id"] for link in link_path(links, "b", "d")] == [2, 4]
    assert link_path(links, "a", "z") == []
    assert link_path(links, "a", "a") == []
    through, path = nearest_path(links, ["z", "a", "d"], "b")  # z leads nowhere; a is one link off, d two
    assert (through, [link["id"] for link in path]) == ("a", [1])
    assert nearest_path(links, ["z"], "b") == (None, [])


def test_diff_between_two_times(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    start = datetime.now(UTC)
    api_calipso.inventory.upsert_objects(ENV, [{**small_inventory()[2], "name": "web-1-renamed"}])
    api_calipso.inventory.delete_subtree(ENV, "vm-2")
    end = datetime.now(UTC)
    changes = client.get("/diff", params={"env_name": ENV, "from": start.isoformat(), "to": end.isoformat()})
    assert changes.status_code == 200, changes.text
    objects = changes.json()["objects"]
    assert sorted(o["id"] for o in objects["removed"]) == ["vm-2", "vnic-2"]
    assert objects["changed"] == [{"key": "vm-1", "type": "instance",
                                   "changes": {"name": {"from": "web-1", "to": "web-1-renamed"}}}]
    assert objects["added"] == []
    assert_error(client.get("/diff", params={"env_name": ENV, "from": end.isoformat(), "to": start.isoformat()}),
                 400, "from", "after to")
    assert_error(client.get("/diff", params={"env_name": ENV, "from": start.isoformat()}), 400, "to", "required")


def test_health_shows_environments_and_their_last_scan(anonymous, api_calipso):
    api_calipso.environments.update(ENV, operational="running", scanned=True)
    with api_calipso.engine.begin() as conn:
        conn.execute(scans.insert(), [
            {"environment": ENV, "status": "completed", "submit_timestamp": datetime(2024, 1, 1, tzinfo=UTC),
             "doc": {}},
            {"environment": ENV, "status": "running", "submit_timestamp": datetime(2024, 2, 1, tzinfo=UTC),
             "doc": {}},
            {"environment": ENV, "status": "request", "submit_timestamp": datetime(2024, 3, 1, tzinfo=UTC),
             "doc": {"kind": "connection_test"}},
        ])
    health = anonymous.get("/health").json()
    assert health["status"] == "ok" and health["database"] == {"ok": True} and health["version"]
    state = health["environments"][ENV]
    assert (state["scanned"], state["operational"], state["last_scan"]["status"]) == (True, "running", "running")


def test_without_a_database_health_and_the_api_answer_503(tmp_path):
    down = Calipso("postgresql+psycopg2://calipso@127.0.0.1:1/calipso")
    try:
        with serve(create_app(down)) as url, httpx.Client(base_url=url, timeout=HTTP_TIMEOUT) as http:
            health = http.get("/health")
            assert health.status_code == 503
            assert health.json()["database"] == {"ok": False} and health.json()["status"] == "error"
            assert_error(http.get("/inventory", params={"env_name": ENV}, headers={TOKEN: "x"}), 503,
                         "database is unavailable")
    finally:
        down.close()
