"""``/connection_tests``: requests to test the connections to parts of an environment
(status ``request``), answered by a worker (status ``response`` with ``test_results``).

They are kept in the ``scans`` table, marked ``{"kind": "connection_test"}`` in their
document, until they get a table of their own. Secrets in the targets' configuration
are never returned.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from calipso_core.api.errors import bad_request, not_found
from calipso_core.api.listing import body_environment, constant_values, fetch_page, project, require_environment
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import CREATED, INTEGER, STRING, STRINGS, TIME, listing_or_document, obj
from calipso_core.api.routes.scans import CONNECTION_TEST
from calipso_core.api.validation import ENV_NAME, INT32_MAX, PAGING, Param, require_choices
from calipso_core.environments import mask_secrets, schema_errors
from calipso_core.errors import ConfigError
from calipso_core.store.tables import scans
from calipso_core.types import Document

STATUSES = ("request", "response")


def _document(doc: Document, call: Call) -> Document:
    masked = mask_secrets({"configuration": doc.get("targets_configuration", [])}, call.calipso.config_sections)
    fields = {k: v for k, v in doc.items() if k not in ("kind", "object_id")}
    return {**fields, "targets_configuration": masked["configuration"]}


def _list_item(doc: Document) -> Document:
    return {"test_results": {}, **project(doc, ("id", "environment", "status", "test_targets", "test_results",
                                                "submit_timestamp"))}


def get_connection_tests(call: Call) -> Document | dict:
    params = call.params
    environment = params["env_name"]
    require_environment(call.engine, environment)
    query = select(scans).where(scans.c.environment == environment, scans.c.doc.contains(CONNECTION_TEST))
    if "id" in params:
        found = fetch_page(call.engine, query.where(scans.c.id == params["id"]), 1, 0)
        if not found:
            raise not_found(f"no connection test {params['id']} in environment {environment!r}")
        return _document(found[0], call)
    if "status" in params:
        query = query.where(scans.c.status == params["status"])
    if "test_targets" in params:
        query = query.where(scans.c.doc.contains({"test_targets": params["test_targets"]}))
    if "test_results" in params:
        has_results = scans.c.doc["test_results"] != {}
        query = query.where(has_results if params["test_results"] else ~has_results)
    docs = fetch_page(call.engine, query.order_by(scans.c.id.desc()), call.limit, call.offset)
    return {"connection_tests": [_list_item(doc) for doc in docs]}


def _check_targets(call: Call, targets: list[str], configuration: list[Document]) -> None:
    sections = call.calipso.config_sections
    known = set(sections) | set(constant_values(call.engine, "configuration_targets"))
    require_choices("body.test_targets", targets, known, "configuration target")
    given = {section["name"]: index for index, section in enumerate(configuration)}
    errors = []
    for target in targets:
        if target not in given:
            errors.append(f"body.targets_configuration: no section named {target!r} for that target")
        elif target in sections:
            schema = dict(sections[target].schema)
            errors += schema_errors(schema, configuration[given[target]],
                                    ["body", "targets_configuration", given[target]])
    if errors:
        raise ConfigError("the connection test request is invalid:", errors)


def post_connection_test(call: Call) -> dict:
    body = call.body
    environment = body_environment(call.engine, body)
    targets, configuration = body["test_targets"], body["targets_configuration"]
    _check_targets(call, targets, configuration)
    extra = sorted({section["name"] for section in configuration} - set(targets))
    if extra:
        raise bad_request("body.targets_configuration", f"sections for no target: {', '.join(extra)}")
    now = datetime.now(UTC)
    doc = {**CONNECTION_TEST, "test_targets": targets, "targets_configuration": configuration,
           "test_results": {}, "submit_timestamp": now.isoformat()}
    with call.engine.begin() as conn:
        test_id = conn.scalar(scans.insert().values(
            environment=environment, status="request", submit_timestamp=now, doc=doc).returning(scans.c.id))
    return {"message": f"connection test {test_id} of environment {environment!r} requested", "id": test_id}


PARAMS = (
    ENV_NAME,
    Param("id", "integer", minimum=1, maximum=INT32_MAX, description="one connection test, whole"),
    Param("status", choices=STATUSES),
    Param("test_targets", many=True, description="tests of all these targets"),
    Param("test_results", "boolean", description="true: answered tests only; false: unanswered only"),
    *PAGING,
)

TEST_ITEM = obj(("id", "environment", "status", "test_targets"), id=INTEGER, environment=STRING, status=STRING,
                test_targets=STRINGS, test_results={"type": "object"}, submit_timestamp=TIME)

OPERATIONS = [
    Operation("GET", "/connection_tests", get_connection_tests, "Connection tests of an environment",
              params=PARAMS, response=listing_or_document("connection_tests", TEST_ITEM), errors=(400, 404)),
    Operation("POST", "/connection_tests", post_connection_test, "Request a connection test",
              body="connection_test", status=201, response=CREATED, writes=True),
]
