"""``/environment_configs``, ``/connection_tests`` and ``/monitoring_config_templates``:
secrets never leave the API."""

from __future__ import annotations

import json

import pytest
from api_helpers import ENV, assert_error, environment_doc
from sqlalchemy import select

from calipso_core.store.tables import scans

AMQP = {"name": "AMQP", "host": "127.0.0.1", "port": 5672, "user": "nova", "pwd": "s3cret-amqp"}


def test_a_listed_and_a_whole_environment(client):
    listed = client.get("/environment_configs").json()["environment_configs"]
    assert listed == [{"name": ENV, "distribution": "Calipso-lab", "distribution_version": "1"}]
    whole = client.get("/environment_configs", params={"name": ENV}).json()
    assert whole["configuration"][0]["pwd"] == "****"
    assert whole["configuration"][0]["user"] == "calipso"
    assert_error(client.get("/environment_configs", params={"name": "UNKNOWN NAME"}), 404, "UNKNOWN NAME")


def test_a_posted_environment_is_validated_and_its_secrets_masked(client, api_calipso):
    doc = environment_doc("second", listen=True, configuration=[*environment_doc()["configuration"], AMQP])
    response = client.post("/environment_configs", json=doc)
    assert response.status_code == 201, response.text
    stored = api_calipso.environments.get("second")
    assert stored["configuration"][1]["pwd"] == "s3cret-amqp" and stored["scanned"] is False
    shown = client.get("/environment_configs", params={"name": "second"})
    assert "s3cret" not in shown.text and shown.json()["configuration"][1]["pwd"] == "****"
    assert_error(client.post("/environment_configs", json=doc), 409, "second", "exists already")


def test_environment_filters(client):
    assert client.post("/environment_configs", json=environment_doc("vpp-env", mechanism_drivers=["VPP"],
                                                                     type_drivers="vlan")).status_code == 201
    def listed(**query):
        response = client.get("/environment_configs", params=query)
        assert response.status_code == 200, response.text
        return [e["name"] for e in response.json()["environment_configs"]]

    assert listed(mechanism_drivers="VPP") == ["vpp-env"]
    assert listed(type_drivers="vxlan") == [ENV]
    assert listed(listen="false") == [ENV, "vpp-env"]
    assert listed(scanned="true") == []
    assert listed(distribution="Mirantis") == []
    assert_error(client.get("/environment_configs", params={"listen": "falses"}), 400, "listen")
    assert_error(client.get("/environment_configs", params={"mechanism_drivers": "wrong"}), 400,
                 "mechanism_drivers")


@pytest.mark.parametrize("change, words", [
    ({"name": None}, ("name: required",)),
    ({"listen": True}, ("listen is true but there is no AMQP section",)),
    ({"configuration": [{"name": "CLI", "host": "h", "user": "u"}]}, ("configuration[0]",)),
    ({"configuration": [{"name": "Nonsense"}]}, ("unknown section 'Nonsense'",)),
    ({"plugins": ["openstack-of-the-future"]}, ("openstack-of-the-future", "not installed")),
    ({"type_drivers": "wrong_type"}, ("type_drivers",)),
])
def test_bad_environments_are_400(client, change, words):
    doc = {k: v for k, v in {**environment_doc("third"), **change}.items() if v is not None}
    error = assert_error(client.post("/environment_configs", json=doc), 400, *words)
    assert "s3cret" not in json.dumps(error)


def test_connection_tests_keep_secrets_in(client, api_calipso):
    request = {"env_name": ENV, "test_targets": ["AMQP", "CLI"],
               "targets_configuration": [AMQP, environment_doc()["configuration"][0]]}
    response = client.post("/connection_tests", json=request)
    assert response.status_code == 201, response.text
    test_id = response.json()["id"]
    whole = client.get("/connection_tests", params={"env_name": ENV, "id": test_id})
    assert "s3cret" not in whole.text
    assert [s["pwd"] for s in whole.json()["targets_configuration"]] == ["****", "****"]
    assert whole.json()["status"] == "request" and whole.json()["test_targets"] == ["AMQP", "CLI"]
    listed = client.get("/connection_tests", params={"env_name": ENV, "test_targets": "AMQP"}).json()
    assert [t["id"] for t in listed["connection_tests"]] == [test_id]
    assert client.get("/connection_tests", params={"env_name": ENV, "test_results": "true"}).json() == {
        "connection_tests": []}
    assert client.get("/connection_tests", params={"env_name": ENV, "status": "response"}).json() == {
        "connection_tests": []}
    assert client.get("/scans", params={"env_name": ENV}).json() == {"scans": []}
    with api_calipso.engine.begin() as conn:
        conn.execute(scans.update().values(status="response", doc=scans.c.doc.op("||")(
            {"test_results": {"AMQP": True, "CLI": False}})))
        assert conn.scalar(select(scans.c.status)) == "response"
    answered = client.get("/connection_tests", params={"env_name": ENV, "test_results": "1"}).json()
    assert answered["connection_tests"][0]["test_results"] == {"AMQP": True, "CLI": False}


@pytest.mark.parametrize("change, words", [
    ({"test_targets": ["Telepathy"]}, ("body.test_targets", "Telepathy")),
    ({"test_targets": ["AMQP", "CLI"]}, ("no section named 'CLI'",)),
    ({"targets_configuration": [{**AMQP, "port": "many"}]}, ("targets_configuration[0].port",)),
    ({"targets_configuration": [AMQP, {"name": "CLI", "host": "h", "user": "u", "pwd": "p"}]},
     ("sections for no target: CLI",)),
    ({"env_name": "Unknown-Environment"}, ("unknown environment",)),
    ({"test_targets": []}, ("body.test_targets",)),
])
def test_bad_connection_tests_are_400(client, change, words):
    request = {"env_name": ENV, "test_targets": ["AMQP"], "targets_configuration": [AMQP], **change}
    error = assert_error(client.post("/connection_tests", json=request), 400, *words)
    assert "s3cret" not in json.dumps(error)


def test_monitoring_config_templates_come_from_the_plugins_checks(client):
    """Each check a plugin returns from ``calipso_monitoring_checks`` is one template."""
    listed = client.get("/monitoring_config_templates").json()["monitoring_config_templates"]
    assert listed == [{"id": "vedge_ovs", "side": "client", "type": "client_check_vedge_ovs.json", "order": 1}]
    whole = client.get("/monitoring_config_templates", params={"id": "vedge_ovs"}).json()
    assert whole["condition"] == {"mechanism_drivers": ["OVS"]}
    assert whole["config"]["checks"]["vedge_{id}"]["command"] == "check_vedge_ovs.py"
    assert client.get("/monitoring_config_templates", params={"side": "server"}).json() == {
        "monitoring_config_templates": []}
    assert len(client.get("/monitoring_config_templates", params={"order": 1}).json()[
        "monitoring_config_templates"]) == 1
    assert_error(client.get("/monitoring_config_templates", params={"side": "wrong-side"}), 400, "side")
    assert_error(client.get("/monitoring_config_templates", params={"order": "1.3"}), 400, "order")
    assert_error(client.get("/monitoring_config_templates", params={"id": "583711893e149c14785d6da5"}), 404)
