"""``/clique_types`` (read and add, with the original's rules) and
``/clique_constraints``."""

from __future__ import annotations

import pytest
from api_helpers import ENV, assert_error

CLIQUE_TYPE = {"env_name": ENV, "name": "instance_vconnector_clique", "link_types": ["instance-vnic",
               "vnic-vconnector"], "focal_point_type": "instance"}
CONFIGURED = {"name": "vpp_instance", "focal_point_type": "instance", "link_types": ["instance-vnic"],
              "distribution": "Mirantis", "distribution_version": "6.0", "mechanism_drivers": "OVS",
              "type_drivers": "local"}


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()["clique_types"]]


def test_the_plugins_default_types_are_listed(client):
    listed = client.get("/clique_types").json()["clique_types"]
    assert [t["name"] for t in listed] == ["instance"]
    assert listed[0]["environment"] == "ANY" and listed[0]["link_types"][0] == "instance-vnic"
    whole = client.get("/clique_types", params={"id": listed[0]["id"]}).json()
    assert whole["constraints"] == ["network"] and whole["origin"] == "default"
    assert_error(client.get("/clique_types", params={"id": 999}), 404, "999")


def test_an_environment_clique_type_is_added_once(client):
    response = client.post("/clique_types", json=CLIQUE_TYPE)
    assert response.status_code == 201, response.text
    new_id = response.json()["id"]
    stored = client.get("/clique_types", params={"id": new_id}).json()
    assert stored["environment"] == ENV and stored["origin"] == "user"
    assert names(client.get("/clique_types", params={"env_name": ENV})) == ["instance_vconnector_clique"]
    again = {**CLIQUE_TYPE, "name": "another"}
    assert_error(client.post("/clique_types", json=again), 409, "instance", ENV)


def test_a_configuration_clique_type_is_added_once(client):
    response = client.post("/clique_types", json=CONFIGURED)
    assert response.status_code == 201, response.text
    stored = client.get("/clique_types", params={"id": response.json()["id"]}).json()
    assert stored["mechanism_drivers"] == ["OVS"] and stored["type_drivers"] == ["local"]
    assert names(client.get("/clique_types", params={"mechanism_drivers": "OVS"})) == ["vpp_instance"]
    assert names(client.get("/clique_types", params={"distribution": "Mirantis", "distribution_version": "6.0"}))
    assert_error(client.post("/clique_types", json={**CONFIGURED, "name": "copy"}), 409, "configuration")


@pytest.mark.parametrize("change, status, words", [
    ({"mechanism_drivers": "OVS"}, 400, ("either env_name or a configuration",)),
    ({"env_name": None}, 400, ("either env_name or a configuration",)),
    ({"env_name": "ANY"}, 400, ("reserved",)),
    ({"env_name": "Unknown-Environment"}, 400, ("body.env_name", "unknown environment")),
    ({"env_name": ENV, "environment": "other"}, 400, ("differ",)),
    ({"focal_point_type": "wrong-object-type"}, 400, ("body.focal_point_type",)),
    ({"link_types": ["instance-host"]}, 400, ("body.link_types", "instance-host")),
    ({"link_types": []}, 400, ("body.link_types",)),
    ({"name": None}, 400, ("body.name", "required")),
    ({"colour": "red"}, 400, ("colour",)),
])
def test_bad_clique_types_are_refused(client, change, status, words):
    body = {k: v for k, v in {**CLIQUE_TYPE, **change}.items() if v is not None}
    assert_error(client.post("/clique_types", json=body), status, *words)


def test_configuration_rules(client):
    no_distribution = {**CONFIGURED}
    del no_distribution["distribution"]
    assert_error(client.post("/clique_types", json=no_distribution), 400, "distribution_version", "distribution")
    assert_error(client.post("/clique_types", json={**CONFIGURED, "mechanism_drivers": ["OVS", "Nope"]}), 400,
                 "body.mechanism_drivers", "Nope")
    assert_error(client.get("/clique_types", params={"distribution_version": "6.0"}), 400, "distribution_version")


def test_clique_types_by_link_types_all_given(client):
    assert client.post("/clique_types", json=CLIQUE_TYPE).status_code == 201
    both = client.get("/clique_types?link_type=instance-vnic&link_type=vnic-vconnector")
    assert names(both) == ["instance", "instance_vconnector_clique"]
    assert names(client.get("/clique_types?link_type=instance-vnic&link_type=vedge-host_pnic")) == ["instance"]
    assert_error(client.get("/clique_types?link_type=instance-host"), 400, "link_type")


def test_clique_constraints(client):
    listed = client.get("/clique_constraints").json()["clique_constraints"]
    assert listed == [{"id": listed[0]["id"], "focal_point_type": "instance", "constraints": ["network"],
                       "environment": ""}]
    assert client.get("/clique_constraints", params={"constraint": "network"}).json()["clique_constraints"]
    assert client.get("/clique_constraints", params={"focal_point_type": "vnic"}).json() == {"clique_constraints": []}
    one = client.get("/clique_constraints", params={"id": listed[0]["id"]}).json()
    assert one["focal_point_type"] == "instance"
    assert_error(client.get("/clique_constraints", params={"id": 576}), 404)
    assert_error(client.get("/clique_constraints", params={"focal_point_type": "wrong-object-type"}), 400,
                 "focal_point_type")
