"""The scanner tree: the plugins' scanner definitions merged, validated and checked.

Checked at load, before any scan runs: the JSON Schema (``schemas/scanners.json``), every
fetcher named exists, every children scanner exists, and no scanner reaches itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from calipso_core.environments import load_schema, schema_errors
from calipso_core.errors import ConfigError
from calipso_core.types import Fetcher, FetchType

ROOT = "environment"
log = logging.getLogger(__name__)


class ScannerTree:
    """Scanners by name, with the fetchers they use."""

    def __init__(self, scanners: Mapping[str, tuple[FetchType, ...]], fetchers: Mapping[str, Fetcher]):
        self.scanners = dict(scanners)
        self.fetchers = dict(fetchers)

    @classmethod
    def from_plugins(cls, plugins) -> ScannerTree:
        records = plugins.records("calipso_scanners")
        tree = merge(records.values())
        fetchers = plugins.records("calipso_fetchers")
        check(tree, fetchers)
        return cls(tree, fetchers)

    def fetch_types(self, scanner: str, environment: Mapping[str, Any]) -> list[FetchType]:
        """The entries of ``scanner`` whose condition the environment meets."""
        return [ft for ft in self.scanners.get(scanner, ()) if condition_met(ft.environment_condition, environment)]


def merge(records) -> dict[str, tuple[FetchType, ...]]:
    """Scanners by name; ``extends`` records append to the scanner they name. One that
    extends a scanner no installed plugin has is left out (with a warning): a plugin may
    add to another plugin's tree without depending on it. So are the scanners that hang
    only under what was left out (with whatever they name of the missing plugin)."""
    owned = {r.name: list(r.fetch_types) for r in records if not r.extends}
    left_out = []
    for record in records:
        if record.extends in owned:
            owned[record.extends].extend(record.fetch_types)
        elif record.extends:
            log.warning("scanner %s is left out: the scanner %s it extends is not installed",
                        record.name, record.extends)
            left_out += [ft.children_scanner for ft in record.fetch_types if ft.children_scanner]
    tree = {name: tuple(entries) for name, entries in owned.items()}
    for name in sorted(_reachable(tree, left_out) - _reachable(tree, [ROOT])):
        log.warning("scanner %s is left out: it hangs only under scanners left out", name)
        del tree[name]
    return tree


def _reachable(tree: Mapping[str, tuple[FetchType, ...]], starts: list[str]) -> set[str]:
    """The scanners of ``tree`` that ``starts`` lead to, themselves included."""
    seen, stack = set(), list(starts)
    while stack:
        name = stack.pop()
        if name not in seen and name in tree:
            seen.add(name)
            stack += [ft.children_scanner for ft in tree[name] if ft.children_scanner]
    return seen


def as_document(tree: Mapping[str, tuple[FetchType, ...]]) -> dict[str, list[dict]]:
    """The tree as JSON, the shape ``schemas/scanners.json`` describes."""
    return {
        name: [{k: v for k, v in asdict(ft).items() if v is not None and v != {}} for ft in entries]
        for name, entries in tree.items()
    }


def check(tree: Mapping[str, tuple[FetchType, ...]], fetchers: Mapping[str, Fetcher]) -> None:
    """Raise ``ConfigError`` listing every problem of the merged tree."""
    errors = schema_errors(load_schema("scanners"), as_document(tree))
    if ROOT not in tree:
        errors.append(f"no root scanner named {ROOT!r}")
    for name, entries in tree.items():
        for index, ft in enumerate(entries):
            where = f"{name}[{index}] ({ft.type})"
            if ft.fetcher and ft.fetcher not in fetchers:
                errors.append(f"{where}: unknown fetcher {ft.fetcher!r}")
            if ft.children_scanner and ft.children_scanner not in tree:
                errors.append(f"{where}: unknown children scanner {ft.children_scanner!r}")
    errors += [f"cycle: {' -> '.join(cycle)}" for cycle in find_cycles(tree)]
    if errors:
        raise ConfigError("the scanner definitions are invalid:", errors)


def find_cycles(tree: Mapping[str, tuple[FetchType, ...]]) -> list[list[str]]:
    """Every scanner path that comes back to a scanner already on it."""
    cycles, done = [], set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycles.append([*path[path.index(name):], name])
            return
        if name in done or name not in tree:
            return
        for ft in tree[name]:
            if ft.children_scanner:
                visit(ft.children_scanner, [*path, name])
        done.add(name)

    for name in tree:
        visit(name, [])
    return cycles


def condition_met(condition: Mapping[str, Any], environment: Mapping[str, Any]) -> bool:
    """A list in the condition matches any of the environment's values; a scalar, equality."""
    for key, wanted in condition.items():
        value = environment.get(key)
        values = value if isinstance(value, list) else [value]
        if isinstance(wanted, list):
            if not set(values) & set(wanted):
                return False
        elif value != wanted and not (isinstance(wanted, bool) and bool(value) == wanted):
            return False
    return True

