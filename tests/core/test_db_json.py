"""Documents come back from PostgreSQL exactly as written (they are written and read
with orjson, except where it would refuse or not be exact)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from calipso_core import db


def test_documents_read_back_exactly(inventory):
    doc = {"id": "x", "type": "vnic", "name": "tap-ü", "parent_id": "p", "parent_type": "vnics_folder",
           "id_path": "/e/p/x", "name_path": "/e/p/tap-ü",
           "counters": {"rx_bytes": 2**64 + 1, "tx_bytes": 2**63, "ratio": 0.1, "none": None, "flags": [True, False]},
           "text": "a \\u0000-free string with 12345678901234567890123 digits"}
    inventory.upsert_objects("e", [doc])
    stored = inventory.get("e", "x")
    assert stored["counters"] == doc["counters"] and isinstance(stored["counters"]["rx_bytes"], int)
    assert stored["text"] == doc["text"] and stored["name"] == "tap-ü"


def test_documents_read_back_have_plain_keys_that_orjson_writes(inventory):
    """Column names come from SQLAlchemy as a subclass of str, which orjson refuses: a
    document read and written back would go to the standard library's encoder."""
    inventory.upsert_objects("e", [{"id": "z", "type": "vnic", "name": "z", "id_path": "/e/z", "name_path": "/e/z",
                                    "mac": "fa:16:3e:00:00:01"}])
    for doc in (inventory.get("e", "z"), *inventory.find("e", {"type": "vnic"})):
        assert {type(key) for key in doc} == {str}
        assert orjson.loads(orjson.dumps(doc))["mac"] == "fa:16:3e:00:00:01"


def test_documents_with_what_orjson_refuses_are_written_all_the_same(inventory):
    doc = {"id": "y", "type": "vnic", "name": "y", "id_path": "/e/y", "name_path": "/e/y",
           "big": 2**70, "by_number": {1: "one"}, "seen": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
           "day": date(2026, 1, 2)}
    inventory.upsert_objects("e", [doc])
    stored = inventory.get("e", "y")
    assert stored["big"] == 2**70 and stored["by_number"] == {"1": "one"}
    assert stored["seen"] == "2026-01-02T03:04:05.000006+00:00" and stored["day"] == "2026-01-02"


def test_what_no_encoder_can_write_is_named():
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        db.dumps({"ids": {1, 2}})


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": 99999999999999999999, "b": "é"}', {"a": 99999999999999999999, "b": "é"}),
    ('[-18446744073709551617, 18446744073709551615]', [-18446744073709551617, 18446744073709551615]),
    (b'{"n": [1234567890123456789012]}', {"n": [1234567890123456789012]}),
    ('"\\ud800 stays"', "\ud800 stays"),  # orjson refuses a lone surrogate
    ('{"mac": "fa:16:3e:01", "id": 1234567890123456789}', {"mac": "fa:16:3e:01", "id": 1234567890123456789}),
])
def test_json_is_read_exactly(text, expected):
    value = db.loads(text)
    assert value == expected and repr(value) == repr(expected)  # integers stay integers
