"""Reconciliation: a full scan that heals what events missed, and says what it repaired.

The inventory is read before and after the scan (objects with a digest of their
document, links, cliques with a digest of their links); every object, link or clique the
scan added, removed or changed is a repair, reported as messages: one per kind and type
with a few examples, and one summary. A reconciliation that repairs nothing says so.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from calipso_core import messages
from calipso_core.store.tables import cliques, inventory, links

#: Fields that change on every write and are not part of what an object is.
VOLATILE = frozenset({"last_scanned", "revision_number", "updated_at", "status", "status_text",
                      "status_value", "status_timestamp"})
EXAMPLES = 5


@dataclass
class Repair:
    """What one reconciliation changed: per (kind, type) the ids added, removed, changed."""

    scan_id: int | None = None
    scan_status: str = ""
    added: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    removed: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    changed: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(v) for part in (self.added, self.removed, self.changed) for v in part.values())

    def counts(self) -> Counter:
        found: Counter = Counter()
        for what, part in (("added", self.added), ("removed", self.removed), ("changed", self.changed)):
            for (kind, _type), ids in part.items():
                found[f"{kind} {what}"] += len(ids)
        return found


def _digest(value) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def snapshot(engine, env: str) -> dict[tuple[str, str], dict[str, str]]:
    """(kind, type) -> {key: digest} of an environment's objects, links and cliques."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(inventory).where(inventory.c.environment == env)):
            doc = {k: v for k, v in {**row.doc, **row._mapping}.items() if k not in VOLATILE and k != "doc"}
            found.setdefault(("objects", row.type), {})[row.id] = _digest(doc)
        for row in conn.execute(select(links).where(links.c.environment == env)):
            key = f"{row.source_id}|{row.target_id}"
            found.setdefault(("links", row.link_type), {})[key] = _digest(
                [row.link_name, row.state, row.doc.get("attributes")])
        for row in conn.execute(select(cliques).where(cliques.c.environment == env)):
            found.setdefault(("cliques", row.focal_point_type), {})[row.focal_point] = _digest(
                sorted(row.doc.get("links_detailed") and [[d["link_type"], d["source_id"], d["target_id"]]
                                                          for d in row.doc["links_detailed"]] or []))
    return found


def difference(before: dict, after: dict) -> Repair:
    repair = Repair()
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, {}), after.get(key, {})
        for part, ids in ((repair.added, sorted(new.keys() - old.keys())),
                          (repair.removed, sorted(old.keys() - new.keys())),
                          (repair.changed, sorted(k for k in old.keys() & new.keys() if old[k] != new[k]))):
            if ids:
                part[key] = ids
    return repair


def reconcile(app, env_name: str) -> Repair:
    """Scan ``env_name`` in full and record what the scan repaired as messages."""
    from calipso_core.scan.controller import Scan

    before = snapshot(app.engine, env_name)
    summary = Scan(app, env_name).run()
    repair = difference(before, snapshot(app.engine, env_name))
    repair.scan_id, repair.scan_status = summary.scan_id, summary.status
    record_repair(app, env_name, repair)
    return repair


def record_repair(app, env_name: str, repair: Repair) -> None:
    with app.engine.begin() as conn:
        for what, part in (("added", repair.added), ("removed", repair.removed), ("changed", repair.changed)):
            for (kind, type_name), ids in part.items():
                examples = ", ".join(ids[:EXAMPLES]) + (" ..." if len(ids) > EXAMPLES else "")
                messages.record(conn, env_name, "Calipso", "warn",
                                f"reconciliation {what} {len(ids)} {kind} of type {type_name}: {examples}",
                                event_type="reconciliation", related_object=ids[0] if len(ids) == 1 else None,
                                related_object_type=type_name if kind == "objects" else None,
                                scan_id=repair.scan_id, kind=kind, action=what, count=len(ids), ids=ids[:100])
        counts = ", ".join(f"{n} {k}" for k, n in sorted(repair.counts().items())) or "nothing to repair"
        messages.record(conn, env_name, "Calipso", "info" if repair.total == 0 else "warn",
                        f"reconciliation scan {repair.scan_id} ({repair.scan_status}): {counts}",
                        event_type="reconciliation", scan_id=repair.scan_id, repairs=repair.total)
