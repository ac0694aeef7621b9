"""Reading tables for the API: one page of rows, one row, the checks that need the
database (does the environment exist, is a value among the known constants)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Engine

from calipso_core.api.errors import bad_request
from calipso_core.api.validation import Param, require_choices
from calipso_core.plugins import CalipsoPluginManager
from calipso_core.store.inventory import join_document
from calipso_core.store.tables import constants, environments
from calipso_core.types import Document


def fetch_page(engine: Engine, query: Select, limit: int, offset: int) -> list[Document]:
    """The documents of one page of ``query`` (which must be ordered); when it reads
    some columns and not the ``doc``, those of them that are not null."""
    with engine.connect() as conn:
        rows = conn.execute(query.limit(limit).offset(offset))
        if "doc" in list(rows.keys()):
            return [join_document(row) for row in rows]
        return [{key: value for key, value in row._mapping.items() if value is not None} for row in rows]


def fetch_one(engine: Engine, query: Select) -> Document | None:
    with engine.connect() as conn:
        row = conn.execute(query.limit(1)).first()
    return join_document(row) if row else None


def project(doc: Document, fields: Sequence[str]) -> Document:
    """The list view of a document: the named fields it has."""
    return {key: doc[key] for key in fields if doc.get(key) is not None}


def environment_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(environments.c.name).where(environments.c.name == name)) is not None


def require_environment(engine: Engine, name: str, parameter: str = "env_name") -> None:
    """400 naming ``parameter`` when no environment is called ``name``."""
    if not environment_exists(engine, name):
        raise bad_request(parameter, f"unknown environment {name!r}")


def constant_values(engine: Engine, name: str) -> list[str]:
    """The values of one constants list (empty when there is no such list)."""
    with engine.connect() as conn:
        doc = conn.scalar(select(constants.c.doc).where(constants.c.name == name))
    return [item.get("value") for item in (doc or {}).get("data", []) if isinstance(item, dict)]


def _reverse(link_type: str) -> str:
    source, _, target = link_type.partition("-")
    return f"{target}-{source}" if target else link_type


def plugin_values(plugins: CalipsoPluginManager, name: str) -> set[str]:
    """Object or link types the installed plugins use without their being constants."""
    found: set[str] = set()
    if name == "object_types":
        for scanner in plugins.records("calipso_scanners").values():
            found |= {fetch_type.type for fetch_type in scanner.fetch_types}
        found |= {ct.focal_point_type for ct in plugins.records("calipso_clique_types").values()}
    elif name == "link_types":
        for finder in plugins.records("calipso_link_finders").values():
            found |= set(finder.link_types)
        for clique_type in plugins.records("calipso_clique_types").values():
            found |= set(clique_type.link_types)
    return found


def known_values(engine: Engine, plugins: CalipsoPluginManager, name: str) -> set[str]:
    """The allowed values of a constants list, with what the plugins add; link types
    in both directions (clique types walk links either way)."""
    values = set(constant_values(engine, name)) | plugin_values(plugins, name)
    if name == "link_types":
        values |= {_reverse(value) for value in values}
    return values


def check_known(engine: Engine, plugins: CalipsoPluginManager, where: str, values: Iterable[str],
                constant: str) -> None:
    """400 naming ``where`` when a value is not in the constants list ``constant`` (with
    what the plugins add). A list that is not defined at all (database not seeded)
    checks nothing."""
    allowed = known_values(engine, plugins, constant)
    if allowed:
        require_choices(where, values, allowed, f"value of {constant}")


def check_constants(engine: Engine, plugins: CalipsoPluginManager, params: Iterable[Param],
                    values: dict[str, Any]) -> None:
    """400 when a parameter tied to a constants list has a value not in it."""
    for param in params:
        if param.constant and param.name in values:
            given = values[param.name] if param.many else [values[param.name]]
            check_known(engine, plugins, param.name, given, param.constant)


def body_environment(engine: Engine, body: Document, required: bool = True) -> str | None:
    """The environment a request body names (``env_name``, or the original's
    ``environment``), checked to exist."""
    names = {key: body[key] for key in ("env_name", "environment") if key in body}
    if len(set(names.values())) > 1:
        raise bad_request("body.env_name", "env_name and environment differ; give one of them")
    if not names:
        if required:
            raise bad_request("body.env_name", "required")
        return None
    name = next(iter(names.values()))
    require_environment(engine, name, "body." + next(iter(names)))
    return name
