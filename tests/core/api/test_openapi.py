"""``/openapi.json`` is valid OpenAPI 3.1, describes every route, parameter and
response, and the API keeps to it: schemathesis generates requests from the document
(valid and invalid ones) and checks that no answer is a server error or departs from
the document."""

from __future__ import annotations

import pytest
import schemathesis
from api_helpers import ENV, PASSWORD, TOKEN, write_small_graph
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from calipso_core import __version__
from calipso_core.api.app import openapi_operation, resource_operations
from calipso_core.api.openapi import build_document, parameter_objects

MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]
OBJECT_IDS = ["vm-1", "node-1-eth0", "br-1", "net-1", "port-1", "nothing"]


def schemas_in(node):
    """Every JSON Schema in the document (parameter, body and response schemas)."""
    if isinstance(node, dict):
        if "schema" in node and isinstance(node["schema"], dict):
            yield node["schema"]
        for value in node.values():
            yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


def test_the_document_is_valid_openapi(anonymous):
    document = anonymous.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()
    found = list(schemas_in(document["paths"]))
    assert len(found) > 100
    for schema in [*found, *document["components"]["schemas"].values()]:
        Draft202012Validator.check_schema(schema)


def test_the_document_describes_every_route_parameter_and_response(anonymous):
    paths = anonymous.get("/openapi.json").json()["paths"]
    operations = resource_operations()
    assert {(op.path, op.method.lower()) for op in operations} | {("/openapi.json", "get")} == {
        (path, method) for path, item in paths.items() for method in item}
    for op in operations:
        described = paths[op.path][op.method.lower()]
        names = [p["name"] for p in described["parameters"]]
        assert names == [obj["name"] for param in op.params for obj in parameter_objects(param)]
        assert all(p.get("description") for p in described["parameters"]), op.path
        statuses = set(described["responses"])
        assert {str(op.status), "400"} <= statuses
        assert ("401" in statuses) == (not op.public or 401 in op.errors), op.path
        assert ("403" in statuses) == op.writes, op.path
        assert ("requestBody" in described) == (op.body_schema is not None)
        assert described["summary"] and described["operationId"]
    inventory_params = {p["name"]: p for p in paths["/inventory"]["get"]["parameters"]}
    assert inventory_params["env_name"]["required"] is True
    assert inventory_params["environment"]["deprecated"] is True
    assert inventory_params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000,
                                                       "default": 1000}
    assert paths["/health"]["get"]["security"] == []


def served_document() -> dict:
    """The document the app serves, built the same way without a database."""
    operations = [*resource_operations(), openapi_operation({})]
    return build_document(operations, __version__)


def test_the_served_document_is_the_one_fuzzed(anonymous):
    assert anonymous.get("/openapi.json").json() == served_document()


# Generation is steered to the test environment and its objects most of the time, so
# that requests reach past the parameter checks into the queries.
schema = schemathesis.openapi.from_dict(served_document(), config=SchemathesisConfig.from_dict({
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "with-security-parameters": False},
    "phases": {"coverage": {"enabled": False}},
    "dictionaries": {"environments": {"values": [ENV]}, "objects": {"values": OBJECT_IDS}},
    "parameters": {
        "query.env_name": {"dictionary": "environments", "probability": 0.9},
        "query.focal_point": {"dictionary": "objects", "probability": 0.8},
        "query.q": {"dictionary": "objects", "probability": 0.5},
        "body.env_name": {"dictionary": "environments", "probability": 0.8},
    },
}))


@pytest.fixture
def graph_written(api_calipso):
    write_small_graph(api_calipso)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_to_its_document(case, api_url, client, users, graph_written):
    token = client.headers[TOKEN]
    if case.method == "DELETE":  # revoking must not revoke the token of the next examples
        token = users.issue_token(users.authenticate("admin", PASSWORD), "credentials").token
    case.call_and_validate(base_url=api_url, headers={TOKEN: token}, checks=CHECKS)
