"""Environment documents: validation against the core and plugin schemas, secrets masked
on the way out, and their table."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Engine

from calipso_core.errors import ConfigError, NotFound
from calipso_core.store.tables import environments
from calipso_core.types import ConfigSection, Document

MASK = "****"


@cache
def load_schema(name: str) -> dict:
    """A JSON Schema shipped in ``schemas/`` by name, e.g. ``environment``."""
    return json.loads((resources.files("calipso_core") / "schemas" / f"{name}.json").read_text())


def json_path(parts) -> str:
    """``["configuration", 2, "host"]`` -> ``configuration[2].host``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: ValidationError, prefix: list) -> str:
    parts = [*prefix, *error.absolute_path]
    reason = error.message
    if error.validator == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        if missing:
            parts.append(missing.group(1))
            reason = "required"
    return f"{json_path(parts) or '(document)'}: {reason}"


def schema_errors(schema: dict, doc: Any, prefix: list | None = None) -> list[str]:
    """Every error of ``doc`` against ``schema`` as ``"<json path>: <reason>"``."""
    validator = Draft202012Validator(schema)
    return [_describe(e, prefix or []) for e in validator.iter_errors(doc)]


def validate(doc: Any, sections: dict[str, ConfigSection]) -> None:
    """Raise ``ConfigError`` listing every problem of an environment document."""
    errors = schema_errors(load_schema("environment"), doc)
    configuration = doc.get("configuration") if isinstance(doc, dict) else None
    seen: dict[str, int] = {}
    for index, section in enumerate(configuration if isinstance(configuration, list) else []):
        if not isinstance(section, dict) or not isinstance(section.get("name"), str):
            continue  # already reported by the core schema
        name = section["name"]
        if name in seen:
            errors.append(f"configuration[{index}].name: section {name!r} repeats configuration[{seen[name]}]")
        seen.setdefault(name, index)
        if name not in sections:
            known = ", ".join(sorted(sections)) or "none"
            errors.append(f"configuration[{index}].name: unknown section {name!r} (known: {known})")
            continue
        errors += schema_errors(dict(sections[name].schema), section, ["configuration", index])
    if isinstance(doc, dict) and doc.get("listen") and "AMQP" not in seen and "AMQP" in sections:
        errors.append("configuration: listen is true but there is no AMQP section")
    if errors:
        name = doc.get("name") if isinstance(doc, dict) else None
        raise ConfigError(f"environment {name or '(unnamed)'} is invalid:", sorted(errors))


def mask_secrets(doc: Document, sections: dict[str, ConfigSection]) -> Document:
    """A copy of ``doc`` with every secret field of every section shown as ``****``."""
    masked = copy.deepcopy(doc)
    for section in masked.get("configuration", []):
        registered = sections.get(section.get("name"))
        secrets = registered.secrets if registered else ConfigSection("", {}).secrets
        for key in secrets:
            if key in section:
                section[key] = MASK
    return masked


def config_section(doc: Document, name: str) -> Document | None:
    """The configuration section called ``name``, if the environment has one."""
    return next((s for s in doc.get("configuration", []) if s.get("name") == name), None)


class Environments:
    """The ``environments`` table."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, doc: Document, replace: bool = False) -> None:
        stmt = insert(environments).values(name=doc["name"], doc=doc)
        if replace:
            stmt = stmt.on_conflict_do_update(
                index_elements=["name"], set_={"doc": stmt.excluded.doc, "updated_at": stmt.excluded.updated_at}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=["name"])
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount == 0:
                raise ConfigError(f"environment {doc['name']!r} exists already (use --replace to overwrite it)")

    def get(self, name: str) -> Document:
        with self.engine.connect() as conn:
            doc = conn.scalar(select(environments.c.doc).where(environments.c.name == name))
        if doc is None:
            raise NotFound(f"no environment named {name!r} (see 'calipso env list')")
        return doc

    def list(self) -> list[Document]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(environments.c.doc).order_by(environments.c.name)))

    def update(self, name: str, **fields: Any) -> None:
        """Set top-level fields of an environment (e.g. ``scanned``, ``operational``)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                environments.update()
                .where(environments.c.name == name)
                .values(doc=environments.c.doc.op("||")(literal(fields, JSONB)))
            )
        if result.rowcount == 0:
            raise NotFound(f"no environment named {name!r}")
