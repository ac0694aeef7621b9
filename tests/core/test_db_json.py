"""Documents come back from PostgreSQL exactly as written (they are read with orjson,
except where it would not be exact)."""

from __future__ import annotations


def test_documents_read_back_exactly(inventory):
    doc = {"id": "x", "type": "vnic", "name": "tap-ü", "parent_id": "p", "parent_type": "vnics_folder",
           "id_path": "/e/p/x", "name_path": "/e/p/tap-ü",
           "counters": {"rx_bytes": 2**64 + 1, "tx_bytes": 2**63, "ratio": 0.1, "none": None, "flags": [True, False]},
           "text": "a \\u0000-free string with 12345678901234567890123 digits"}
    inventory.upsert_objects("e", [doc])
    stored = inventory.get("e", "x")
    assert stored["counters"] == doc["counters"] and isinstance(stored["counters"]["rx_bytes"], int)
    assert stored["text"] == doc["text"] and stored["name"] == "tap-ü"
