"""Small builders for the JSON Schemas of responses (used in the OpenAPI document and
by the tests that check responses against it)."""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}
STRINGS = {"type": "array", "items": STRING}
DOCUMENT = {"type": "object", "description": "the whole stored document"}


def obj(required: tuple[str, ...] = (), description: str = "", **properties: Any) -> dict:
    """An object schema with the given properties (others allowed)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def listing(key: str, item: dict) -> dict:
    """``{key: [item, ...]}``: a page of a list (empty when nothing matches)."""
    return obj((key,), **{key: {"type": "array", "items": item}})


def listing_or_document(key: str, item: dict) -> dict:
    """The answer of a list endpoint that returns one whole document when given ``id``."""
    return {"anyOf": [listing(key, item), DOCUMENT],
            "description": f"with id: the whole document; otherwise a page of {key}"}


CREATED = obj(("message",), message=STRING, id={"type": ["integer", "string"]})
