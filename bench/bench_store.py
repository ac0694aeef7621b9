"""Bulk upsert of inventory objects against the naive one-statement-per-object path.

Target: at least 20,000 objects/s for the bulk path and at least 10x the naive path.
Also measured: a change to every object, and a rescan (only ``last_scanned`` moves, the
common case of a scan).
"""

from __future__ import annotations

import os
import time

from sqlalchemy.dialects.postgresql import insert

from calipso_core import db
from calipso_core.store import Inventory
from calipso_core.store.inventory import split_document
from calipso_core.store.tables import inventory as inventory_table

BULK = 100_000
NAIVE = 10_000  # the naive path is measured on fewer objects; rates are compared


def documents(count: int, env: str) -> list[dict]:
    docs = []
    for i in range(count):
        host = f"node-{i // 50}"
        docs.append({
            "id": f"{host}-tap{i:08x}", "type": "vnic", "name": f"tap{i:08x}", "host": host,
            "parent_id": f"{host}-vnics", "parent_type": "vnics_folder",
            "id_path": f"/{env}/{host}/{host}-vnics/{host}-tap{i:08x}",
            "name_path": f"/{env}/{host}/vNICs/tap{i:08x}",
            "mac_address": f"fa:16:3e:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}",
            "vnic_type": "instance_vnic", "data": {"mtu": 1450, "state": "UP"},
        })
    return docs


def naive_upsert(engine, env: str, docs: list[dict]) -> None:
    stmt = insert(inventory_table)
    with engine.begin() as conn:
        for doc in docs:
            row = split_document(inventory_table, env, doc)
            update = {k: stmt.excluded[k] for k in row if k not in ("environment", "id")}
            conn.execute(stmt.values(row).on_conflict_do_update(index_elements=["environment", "id"], set_=update))


def rate(count: int, action) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def run(url: str) -> list[str]:
    engine = db.get_engine(url)
    db.upgrade(engine)
    store = Inventory(engine)
    bulk_docs = documents(BULK, "bench-bulk")
    naive_docs = documents(NAIVE, "bench-naive")
    bulk_insert = rate(BULK, lambda: store.upsert_objects("bench-bulk", bulk_docs))
    changed = [{**d, "data": {"mtu": 9000}} for d in bulk_docs]
    bulk_update = rate(BULK, lambda: store.upsert_objects("bench-bulk", changed))
    rescanned = [{**d, "last_scanned": "2030-01-01T00:00:00+00:00"} for d in changed]
    bulk_rescan = rate(BULK, lambda: store.upsert_objects("bench-bulk", rescanned))
    naive = rate(NAIVE, lambda: naive_upsert(engine, "bench-naive", naive_docs))
    engine.dispose()
    return [
        f"bulk upsert, {BULK:,} new objects:      {bulk_insert:>9,.0f} objects/s (target >= 20,000)",
        f"bulk upsert, {BULK:,} changed objects:  {bulk_update:>9,.0f} objects/s",
        f"bulk upsert, {BULK:,} rescanned objects: {bulk_rescan:>8,.0f} objects/s (only last_scanned moves)",
        f"naive, one statement per object ({NAIVE:,}): {naive:>9,.0f} objects/s",
        f"bulk / naive: {bulk_insert / naive:.1f}x (target >= 10x); history is recorded on every path",
        f"load average at the end: {os.getloadavg()[0]:.1f}",
    ]
