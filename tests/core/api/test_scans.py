"""``/scans`` and ``/scheduled_scans``: queue, schedule and read them."""

from __future__ import annotations

import pytest
from api_helpers import ENV, assert_error, small_inventory
from sqlalchemy import select

from calipso_core.store.tables import scans, scheduled_scans

SCAN = {"env_name": ENV, "log_level": "warning", "clear": True, "scan_only_inventory": True}
SCHEDULED = {"environment": ENV, "freq": "WEEKLY", "submit_timestamp": "2017-07-24T12:45:03.784+0000"}


def test_a_posted_scan_is_queued_pending(client, api_calipso):
    response = client.post("/scans", json=SCAN)
    assert response.status_code == 201, response.text
    scan_id = response.json()["id"]
    with api_calipso.engine.connect() as conn:
        row = conn.execute(select(scans).where(scans.c.id == scan_id)).one()
    assert (row.environment, row.status, row.object_id) == (ENV, "pending", None)
    assert row.doc == {"log_level": "warning", "clear": True, "scan_only_inventory": True}
    assert row.submit_timestamp is not None
    listed = client.get("/scans", params={"env_name": ENV}).json()["scans"]
    assert [(s["id"], s["status"]) for s in listed] == [(scan_id, "pending")]
    whole = client.get("/scans", params={"env_name": ENV, "id": scan_id}).json()
    assert whole["log_level"] == "warning" and whole["environment"] == ENV


def test_scans_of_one_object_and_by_status(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    first = client.post("/scans", json={"environment": ENV, "object_id": "node-1"}).json()["id"]
    second = client.post("/scans", json={"env_name": ENV, "status": "draft"}).json()["id"]
    query = {"env_name": ENV}
    assert [s["id"] for s in client.get("/scans", params={**query, "base_object": "node-1"}).json()["scans"]] == [
        first]
    assert [s["id"] for s in client.get("/scans", params={**query, "status": "draft"}).json()["scans"]] == [second]
    assert [s["id"] for s in client.get("/scans", params=query).json()["scans"]] == [second, first]
    assert client.get("/scans", params={**query, "status": "completed"}).json() == {"scans": []}
    assert_error(client.get("/scans", params={**query, "status": "error"}), 400, "status")
    assert_error(client.get("/scans", params={**query, "id": 58}), 404, "58")


@pytest.mark.parametrize("body, words", [
    ({"log_level": "warning"}, ("body",)),
    ({**SCAN, "env_name": "Unknown-Environment"}, ("body.env_name", "unknown environment")),
    ({**SCAN, "status": "error"}, ("body.status",)),
    ({**SCAN, "status": "completed"}, ("body.status",)),
    ({**SCAN, "log_level": "wrong-log-level"}, ("body.log_level",)),
    ({**SCAN, "clear": "falses"}, ("body.clear",)),
    ({**SCAN, "scan_only_links": "falses"}, ("body.scan_only_links",)),
    ({**SCAN, "scan_only_links": False}, ("scan_only_links", "at most one")),
    ({**SCAN, "object_id": "ff"}, ("body.object_id", "no object 'ff'")),
    ({**SCAN, "clear_all": True}, ("clear_all",)),
])
def test_bad_scans_are_400(client, body, words):
    assert_error(client.post("/scans", json=body), 400, *words)


def test_a_scheduled_scan(client, api_calipso):
    response = client.post("/scheduled_scans", json={**SCHEDULED, "scheduled_timestamp": "2030-01-01T00:00:00Z"})
    assert response.status_code == 201, response.text
    new_id = response.json()["id"]
    with api_calipso.engine.connect() as conn:
        row = conn.execute(select(scheduled_scans)).one()
    assert (row.id, row.freq, row.scheduled_timestamp.year) == (new_id, "WEEKLY", 2030)
    assert row.doc["submit_timestamp"].startswith("2017-07-24T12:45:03.784")
    listed = client.get("/scheduled_scans", params={"environment": ENV, "freq": "WEEKLY"}).json()
    assert [s["id"] for s in listed["scheduled_scans"]] == [new_id]
    assert client.get("/scheduled_scans", params={"env_name": ENV, "freq": "DAILY"}).json() == {
        "scheduled_scans": []}
    assert client.get("/scheduled_scans", params={"env_name": ENV, "id": new_id}).json()["freq"] == "WEEKLY"
    assert_error(client.get("/scheduled_scans", params={"env_name": ENV, "freq": "wrong_freq"}), 400, "freq")


@pytest.mark.parametrize("change, words", [
    ({"environment": None}, ("body",)),
    ({"environment": "Unknown-Environment"}, ("body.environment", "unknown environment")),
    ({"freq": None}, ("body.freq", "required")),
    ({"freq": "wrong_freq"}, ("body.freq",)),
    ({"submit_timestamp": None}, ("body.submit_timestamp", "required")),
    ({"submit_timestamp": "2017-01-25T23:34:333+TX0012"}, ("body.submit_timestamp", "ISO 8601")),
    ({"log_level": "wrong-log-level"}, ("body.log_level",)),
    ({"clear": "falses"}, ("body.clear",)),
    ({"scan_only_links": True, "scan_only_inventory": True}, ("at most one",)),
])
def test_bad_scheduled_scans_are_400(client, change, words):
    body = {k: v for k, v in {**SCHEDULED, **change}.items() if v is not None}
    assert_error(client.post("/scheduled_scans", json=body), 400, *words)
