"""``/messages``, ``/constants`` and ``/aggregates``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_helpers import ENV, assert_error, small_inventory

from calipso_core.store.tables import messages


@pytest.fixture
def message_ids(api_calipso):
    rows = [
        {"environment": ENV, "source_system": "OpenStack", "level": "info", "event_type": "port.create.end",
         "related_object": "port-1", "related_object_type": "port",
         "timestamp": datetime(2017, 1, 25, 14, 28, 32, 400000, UTC), "doc": {"message": {"payload": {}}}},
        {"environment": ENV, "source_system": "Sensu", "level": "warn", "related_object": "vedge-1",
         "related_object_type": "vedge", "timestamp": datetime(2017, 1, 26, tzinfo=UTC),
         "doc": {"display_context": "vedge-1"}},
        {"environment": "other", "source_system": "Sensu", "level": "error", "timestamp": datetime.now(UTC)},
    ]
    with api_calipso.engine.begin() as conn:
        return [conn.scalar(messages.insert().values(row).returning(messages.c.id)) for row in rows]


def message_ids_of(client, **query) -> list[int]:
    response = client.get("/messages", params={"env_name": ENV, **query})
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["messages"]]


def test_messages_newest_first_and_filtered(client, message_ids):
    first, second, _ = message_ids
    assert message_ids_of(client) == [second, first]
    assert message_ids_of(client, level="warn") == [second]
    assert message_ids_of(client, source_system="OpenStack") == [first]
    assert message_ids_of(client, related_object="vedge-1") == [second]
    assert message_ids_of(client, related_object_type="port") == [first]
    assert message_ids_of(client, start_time="2017-01-25T14:28:32.400Z", end_time="2017-01-25T23:00:00Z") == [first]
    assert message_ids_of(client, start_time="2017-01-25T16:00:00+01:00") == [second]
    assert message_ids_of(client, related_object="nonexistent-instance") == []
    listed = client.get("/messages", params={"env_name": ENV, "level": "info"}).json()["messages"][0]
    assert listed["source_system"] == "OpenStack" and listed["timestamp"].startswith("2017-01-25T14:28:32.4")


def test_one_message_is_whole(client, message_ids):
    whole = client.get("/messages", params={"env_name": ENV, "id": message_ids[0]}).json()
    assert whole["message"] == {"payload": {}} and whole["event_type"] == "port.create.end"
    assert_error(client.get("/messages", params={"env_name": ENV, "id": message_ids[2]}), 404)


@pytest.mark.parametrize("query, words", [
    ({"level": "wrong-severity"}, ("level",)),
    ({"start_time": "2017-01-25T23:34:333+TX0012"}, ("start_time", "ISO 8601")),
    ({"start_time": "2018-01-01", "end_time": "2017-01-01"}, ("start_time", "after end_time")),
    ({"id": "80b5e074-0f1a-4b67-810c-fa9c92d41a98"}, ("id", "not an integer")),
])
def test_bad_message_filters_are_400(client, message_ids, query, words):
    assert_error(client.get("/messages", params={"env_name": ENV, **query}), 400, *words)


def test_constants(client):
    states = client.get("/constants", params={"name": "link_states"}).json()
    assert states == {"name": "link_states", "data": [{"value": "up", "label": "up"},
                                                      {"value": "down", "label": "down"}]}
    assert_error(client.get("/constants", params={"name": "unknown constant"}), 404, "unknown constant",
                 "link_states")
    assert_error(client.get("/constants"), 400, "name", "required")


def test_aggregates(client, api_calipso, message_ids):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    by_type = client.get("/aggregates", params={"type": "environment", "env_name": ENV}).json()
    assert by_type["env_name"] == ENV and by_type["aggregates"]["object_types"]["instance"] == 2
    assert by_type["aggregates"]["object_types"]["vnic"] == 2
    by_message = client.get("/aggregates", params={"type": "message"}).json()["aggregates"]
    assert by_message == {"levels": {"error": 1, "info": 1, "warn": 1}, "environments": {ENV: 2, "other": 1}}
    in_env = client.get("/aggregates", params={"type": "message", "env_name": ENV}).json()["aggregates"]
    assert in_env["environments"] == {ENV: 2}
    names = client.get("/aggregates", params={"type": "constant"}).json()["aggregates"]["names"]
    assert names["link_states"] == 2 and names["type_drivers"] == 5
    assert_error(client.get("/aggregates", params={"type": "environment"}), 400, "env_name", "type=environment")
    assert_error(client.get("/aggregates", params={"type": "unknown"}), 400, "type")
