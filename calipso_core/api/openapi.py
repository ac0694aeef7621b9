"""The OpenAPI 3.1 document, built from the operations' declarations (paths,
parameters, body and response schemas), so it cannot drift from what is served."""

from __future__ import annotations

import http
from collections.abc import Iterable
from typing import Any

from calipso_core.api.auth import TOKEN_HEADER
from calipso_core.api.operation import Operation
from calipso_core.api.validation import Param

OPENAPI_VERSION = "3.1.0"
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "code", "title"],
        "properties": {"message": {"type": "string"}, "code": {"type": "integer"}, "title": {"type": "string"}},
    }},
}
_SCALARS = {"integer": {"type": "integer"}, "boolean": {"type": "boolean"},
            "datetime": {"type": "string", "format": "date-time"}}


def parameter_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of one value of ``param``."""
    schema: dict[str, Any] = dict(_SCALARS.get(param.kind, {"type": "string", "minLength": 1}))
    if param.choices:
        schema = {"type": "string", "enum": list(param.choices)}
    for key in ("minimum", "maximum", "default"):
        if getattr(param, key) is not None:
            schema[key] = getattr(param, key)
    return {"type": "array", "items": schema} if param.many else schema


def _description(param: Param) -> str:
    text = param.description or f"only those whose {param.name} is this value"
    if param.constant:
        text += f" (a value of the constants list {param.constant})"
    if param.many:
        text += " (may be repeated)"
    return text.strip()


def parameter_objects(param: Param) -> list[dict[str, Any]]:
    """The query parameter(s) of ``param``: itself, then its aliases (deprecated)."""
    if param.prefix:
        return [{"name": param.name, "in": "query", "style": "deepObject", "explode": True,
                 "description": param.description,
                 "schema": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}}]
    main = {"name": param.name, "in": "query", "required": param.required, "description": _description(param),
            "schema": parameter_schema(param)}
    if param.many:
        main.update(style="form", explode=True)
    aliases = [{**main, "name": alias, "required": False, "deprecated": True,
                "description": f"the original API's name for {param.name}; give one of the two"}
               for alias in param.aliases]
    return [main, *aliases]


def _clean(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_statuses(operation: Operation) -> list[int]:
    """Every error status the operation may answer."""
    statuses = {400, *operation.errors}
    if not operation.public:
        statuses.add(401)
    if operation.writes:
        statuses.add(403)
    if operation.body_schema is not None:
        statuses.add(413)
    return sorted(statuses)


def operation_object(operation: Operation) -> dict[str, Any]:
    responses = {str(operation.status): _json(dict(operation.response), http.HTTPStatus(operation.status).phrase)}
    for status, schema in operation.other_responses.items():
        responses[str(status)] = _json(dict(schema), http.HTTPStatus(status).phrase)
    for status in error_statuses(operation):
        responses[str(status)] = _json({"$ref": "#/components/schemas/Error"}, http.HTTPStatus(status).phrase)
    result: dict[str, Any] = {
        "operationId": operation.method.lower() + operation.path.replace("/", "_").replace(".", "_"),
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": [obj for param in operation.params for obj in parameter_objects(param)],
        "responses": responses,
    }
    if operation.description:
        result["description"] = operation.description
    if operation.public:
        result["security"] = []
    schema = operation.body_schema
    if schema is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": _clean(schema)}}}
    return result


def build_document(operations: Iterable[Operation], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = operation_object(operation)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Calipso API", "version": version,
                 "description": "The inventory of a virtualized data centre as one graph: objects, links, "
                                "cliques, scans, messages, history. Get a token with POST /auth/tokens and "
                                f"send it in the {TOKEN_HEADER} header."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": TOKEN_HEADER}},
        },
        "security": [{"token": []}],
    }
