"""Query parameters and JSON bodies: declared once, checked on every request, and
described in the OpenAPI document from the same declarations.

As in the original API, an unknown key, an empty value, a repeated single value, a
value of the wrong type or outside its list is a 400 that names the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from starlette.datastructures import QueryParams

from calipso_core.api.errors import ApiError, bad_request
from calipso_core.environments import schema_errors

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000
MAX_PAGE = 1_000_000
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
TRUE_WORDS, FALSE_WORDS = ("true", "1"), ("false", "0")


@dataclass(frozen=True)
class Param:
    """One query parameter.

    ``kind`` is ``string``, ``integer``, ``boolean`` or ``datetime`` (ISO 8601).
    ``choices`` is a fixed list of values; ``constant`` names the constants list the
    values are checked against per request. ``many`` lets the key repeat (all values
    must match). ``aliases`` are other accepted names (the original's ``environment``).
    ``prefix`` makes it a family of keys ``<name>:<field>`` (also ``<name>[<field>]``).
    """

    name: str
    kind: str = "string"
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    constant: str | None = None
    many: bool = False
    aliases: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    prefix: bool = False


ENV_NAME = Param("env_name", required=True, aliases=("environment",), description="the environment's name")
PAGING = (
    Param("page", "integer", minimum=0, maximum=MAX_PAGE, default=0, description="page number, from 0"),
    Param("page_size", "integer", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE,
          description=f"items per page (at most {MAX_PAGE_SIZE})"),
)


def _check_text(name: str, value: str) -> str:
    if "\x00" in value:
        raise bad_request(name, "contains a NUL character")
    return value


def parse_datetime(name: str, text: str) -> datetime:
    """An ISO 8601 time, in UTC; one without a time zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(name, f"{text!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise bad_request(name, f"{text!r} is out of range") from None


def _convert(param: Param, text: str) -> Any:
    name = param.name
    if text == "":
        raise bad_request(name, "empty value")
    _check_text(name, text)
    if param.kind == "integer":
        try:
            value = int(text)
        except ValueError:
            raise bad_request(name, f"{text!r} is not an integer") from None
        if param.minimum is not None and value < param.minimum:
            raise bad_request(name, f"{value} is below the minimum {param.minimum}")
        if param.maximum is not None and value > param.maximum:
            raise bad_request(name, f"{value} is above the maximum {param.maximum}")
        return value
    if param.kind == "boolean":
        if text.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise bad_request(name, f"{text!r} is not a boolean (true, false, 1 or 0)")
        return text.lower() in TRUE_WORDS
    if param.kind == "datetime":
        return parse_datetime(name, text)
    if param.choices and text not in param.choices:
        raise bad_request(name, f"{text!r} is not one of {', '.join(param.choices)}")
    return text


def _prefixed(key: str, prefixes: dict[str, Param]) -> tuple[Param, str] | None:
    """``attributes:network`` or ``attributes[network]`` -> (the attributes param, ``network``)."""
    for name, param in prefixes.items():
        for start, end in ((f"{name}:", ""), (f"{name}[", "]")):
            if key.startswith(start) and key.endswith(end) and len(key) > len(start) + len(end):
                return param, key[len(start): len(key) - len(end)]
    return None


def parse_query(query: QueryParams, params: Sequence[Param]) -> dict[str, Any]:
    """The declared parameters' values by canonical name (defaults filled in);
    ``many`` parameters as lists, ``prefix`` parameters as ``{field: value}``."""
    by_key = {key: p for p in params if not p.prefix for key in (p.name, *p.aliases)}
    prefixes = {p.name: p for p in params if p.prefix}
    values: dict[str, Any] = {}
    unknown = []
    for key in dict.fromkeys(query.keys()):
        texts = query.getlist(key)
        if key in by_key:
            param = by_key[key]
            if param.name in values or (len(texts) > 1 and not param.many):
                raise bad_request(param.name, "given more than once; give it once")
            converted = [_convert(param, t) for t in texts]
            values[param.name] = converted if param.many else converted[0]
        elif found := _prefixed(key, prefixes):
            param, field = found
            if len(texts) > 1:
                raise bad_request(key, "given more than once; give it once")
            values.setdefault(param.name, {})[_check_text(key, field)] = _convert(Param(key), texts[0])
        else:
            unknown.append(key)
    if unknown:
        known = ", ".join(sorted({p.name + (":<field>" if p.prefix else "") for p in params})) or "none"
        raise bad_request(", ".join(_check_text("query", k) for k in unknown),
                          f"unknown query parameter (known: {known})")
    for param in params:
        if param.name not in values:
            if param.required:
                raise bad_request(param.name, "required")
            if param.default is not None:
                values[param.name] = param.default
    return values


def require_choices(name: str, values: Iterable[str], allowed: Iterable[str], what: str) -> None:
    """400 when a value is not among ``allowed`` (e.g. the constants' ``link_types``)."""
    allowed = set(allowed)
    for value in values:
        if value not in allowed:
            shown = ", ".join(sorted(allowed)[:40]) or "none defined"
            raise bad_request(name, f"{value!r} is not a known {what} ({shown})")


# -- bodies ----------------------------------------------------------------------------


@cache
def load_api_schema(name: str) -> dict:
    """A request body schema from ``schemas/api/<name>.json``."""
    return json.loads((resources.files("calipso_core") / "schemas" / "api" / f"{name}.json").read_text())


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """The body as JSON; NaN/Infinity, NUL characters and lone surrogates are refused
    (PostgreSQL cannot store them)."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request("body", f"not valid JSON: {error}") from None
    _check_strings(body, "body")
    return body


def _check_strings(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, where)
            _check_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        _check_text(where, value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(where, "contains an unpaired surrogate character") from None


def validate_body(body: Any, schema: dict) -> None:
    """400 listing every way ``body`` departs from ``schema``."""
    if Draft202012Validator(schema).is_valid(body):
        return
    raise ApiError(400, "; ".join(schema_errors(schema, body, ["body"])[:10]))
