"""Every bad query parameter or body is a 400 that names the parameter and says why."""

from __future__ import annotations

import pytest
from api_helpers import ENV, assert_error, small_inventory
from starlette.datastructures import QueryParams

from calipso_core.api.errors import ApiError
from calipso_core.api.validation import PAGING, Param, parse_query


@pytest.mark.parametrize("query, words", [
    ({"env_name": ENV, "bogus": "1"}, ("bogus", "unknown query parameter", "known:", "parent_path")),
    ({}, ("env_name", "required")),
    ({"env_name": ""}, ("env_name", "empty value")),
    ({"env_name": "Unknown-Environment"}, ("env_name", "unknown environment 'Unknown-Environment'")),
    ({"env_name": ENV, "page": "1.4"}, ("page", "not an integer")),
    ({"env_name": ENV, "page": "-1"}, ("page", "below the minimum 0")),
    ({"env_name": ENV, "page_size": "2.4"}, ("page_size", "not an integer")),
    ({"env_name": ENV, "page_size": "10001"}, ("page_size", "above the maximum 10000")),
    ({"env_name": ENV, "page_size": "0"}, ("page_size", "below the minimum 1")),
    ({"env_name": ENV, "sub_tree": "falses", "parent_path": "/x"}, ("sub_tree", "not a boolean")),
    ({"env_name": ENV, "type": "wrong-object-type"}, ("type", "not a known value of object_types")),
    ({"env_name": ENV, "as_of": "2017-01-25T23:34:333+TX0012"}, ("as_of", "not an ISO 8601 time")),
    ({"env_name": ENV, "id": "a\x00b"}, ("id", "NUL")),
])
def test_bad_query_parameters_are_400(client, query, words):
    assert_error(client.get("/inventory", params=query), 400, *words)


def test_a_repeated_single_parameter_is_400(client):
    assert_error(client.get("/inventory?env_name=lab-one&id=a&id=b"), 400, "id", "more than once")
    assert_error(client.get("/inventory?env_name=lab-one&environment=lab-one"), 400, "env_name", "more than once")


def test_the_original_environment_parameter_is_accepted(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    objects = client.get("/inventory", params={"environment": ENV, "parent_id": "node-1"}).json()["objects"]
    assert "vm-1" in [o["id"] for o in objects]


def test_paging_is_zero_based_with_a_default_size(client, api_calipso):
    api_calipso.inventory.upsert_objects(ENV, small_inventory())
    all_ids = [o["id"] for o in client.get("/inventory", params={"env_name": ENV}).json()["objects"]]
    assert all_ids == sorted(o["id"] for o in small_inventory())
    pages = [client.get("/inventory", params={"env_name": ENV, "page": n, "page_size": 4}).json()["objects"]
             for n in range(4)]
    assert [o["id"] for page in pages for o in page] == all_ids
    assert [len(page) for page in pages] == [4, 4, 3, 0]


@pytest.mark.parametrize("raw, words", [
    (b'{"env_name": NaN}', ("not valid JSON", "NaN")),
    (b'{"env_name": "a\\u0000"}', ("body.env_name", "NUL")),
    (b'{"env_name": "\\ud800"}', ("body.env_name", "surrogate")),
    (b"\xff\xfe", ("not valid JSON",)),
])
def test_bodies_postgresql_cannot_store_are_400(client, raw, words):
    assert_error(client.post("/scans", content=raw, headers={"content-type": "application/json"}), 400, *words)


def test_a_body_over_a_mebibyte_is_refused(client):
    response = client.post("/scans", content=b" " * (1024 * 1024 + 10), headers={"content-type": "application/json"})
    assert_error(response, 413)


def test_parse_query_defaults_lists_and_prefixed_keys():
    params = (Param("state", choices=("up", "down")), Param("link_type", many=True),
              Param("attributes", prefix=True), *PAGING)
    values = parse_query(QueryParams("state=up&link_type=a-b&link_type=c-d&attributes:network=n1"
                                     "&attributes[mac]=m"), params)
    assert values == {"state": "up", "link_type": ["a-b", "c-d"], "attributes": {"network": "n1", "mac": "m"},
                      "page": 0, "page_size": 1000}
    with pytest.raises(ApiError, match="state: 'sideways' is not one of up, down"):
        parse_query(QueryParams("state=sideways"), params)
    with pytest.raises(ApiError, match="attributes:: unknown query parameter"):
        parse_query(QueryParams("attributes:=x"), params)
