"""Tokens: getting one, using it, giving it back; every route refuses a request without
a valid token; read-only users cannot change anything."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from api_helpers import ENV, HTTP_TIMEOUT, PASSWORD, TOKEN, Clock, assert_error, serve, token_for
from sqlalchemy import select, update

from calipso_core.api import create_app
from calipso_core.api.app import resource_operations
from calipso_core.store.tables import api_tokens
from calipso_core.users import token_hash

PUBLIC = {("POST", "/auth/tokens"), ("GET", "/health"), ("GET", "/openapi.json")}


def credentials(username: str, password: str) -> dict:
    return {"auth": {"methods": ["credentials"], "credentials": {"username": username, "password": password}}}


def test_credentials_give_a_token_that_opens_the_api(anonymous, users):
    response = anonymous.post("/auth/tokens", json=credentials("admin", PASSWORD))
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["method"] == "credentials" and issued["role"] == "read-write"
    assert datetime.fromisoformat(issued["expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    listing = anonymous.get("/scans", params={"env_name": ENV}, headers={TOKEN: issued["token"]})
    assert listing.status_code == 200
    assert listing.json() == {"scans": []}


def test_only_the_tokens_sha256_is_stored(anonymous, users, api_calipso):
    token = anonymous.post("/auth/tokens", json=credentials("viewer", PASSWORD)).json()["token"]
    with api_calipso.engine.connect() as conn:
        stored = list(conn.scalars(select(api_tokens.c.token_hash)))
    assert stored == [token_hash(token)]
    assert re.fullmatch(r"[0-9a-f]{64}", stored[0]) and token not in stored


def test_a_valid_token_gives_a_new_token(anonymous, users, client):
    old = client.headers[TOKEN]
    response = anonymous.post("/auth/tokens", json={"auth": {"methods": ["token"], "token": old}})
    assert response.status_code == 201
    new = response.json()
    assert new["method"] == "token" and new["token"] != old and new["username"] == "admin"


@pytest.mark.parametrize("body, words", [
    (credentials("admin", "wrong password"), ("authentication failed",)),
    (credentials("nobody", PASSWORD), ("authentication failed",)),
    ({"auth": {"methods": ["token"], "token": "wrong_token"}}, ("token not valid",)),
])
def test_wrong_credentials_or_token_are_401(anonymous, users, body, words):
    assert_error(anonymous.post("/auth/tokens", json=body), 401, *words)


@pytest.mark.parametrize("body, words", [
    ({}, ("body.auth", "required")),
    ({"auth": {}}, ("body.auth.methods", "required")),
    ({"auth": {"methods": ["credentials"]}}, ("body.auth.credentials", "required")),
    ({"auth": {"methods": ["token"]}}, ("body.auth.token", "required")),
    ({"auth": {"methods": ["ldap"], "token": "x"}}, ("body.auth.methods[0]",)),
    ("", ("body",)),
])
def test_malformed_token_requests_are_400(anonymous, users, body, words):
    assert_error(anonymous.post("/auth/tokens", json=body), 400, *words)


def test_not_json_is_400(anonymous):
    response = anonymous.post("/auth/tokens", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(response, 400, "body", "not valid JSON")


def test_deleting_the_token_revokes_it(client):
    assert client.get("/messages", params={"env_name": ENV}).status_code == 200
    response = client.delete("/auth/tokens")
    assert response.status_code == 200 and response.json() == {"message": "token revoked"}
    assert_error(client.get("/messages", params={"env_name": ENV}), 401, "unknown or has expired")
    assert_error(client.delete("/auth/tokens"), 401)


def test_a_token_revoked_by_another_process_stops_within_the_cache_seconds(api_calipso, users):
    app = create_app(api_calipso, token_cache=5)
    clock = app.state.users.validated.clock = Clock()
    token = token_for(users, "viewer")
    with serve(app) as url, httpx.Client(base_url=url, timeout=HTTP_TIMEOUT, headers={TOKEN: token}) as viewer:
        assert viewer.get("/scans", params={"env_name": ENV}).status_code == 200
        users.revoke_token(token)  # another worker, or calipso user remove
        clock.now += 4.9
        assert viewer.get("/scans", params={"env_name": ENV}).status_code == 200
        clock.now += 0.1
        assert_error(viewer.get("/scans", params={"env_name": ENV}), 401, "unknown or has expired")


def test_an_expired_token_is_401(client, api_calipso):
    with api_calipso.engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.token_hash == token_hash(client.headers[TOKEN]))
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert_error(client.get("/scans", params={"env_name": ENV}), 401, "expired")


def app_routes(calipso) -> list[tuple[str, str]]:
    """Every (method, path) the application routes, read from the app itself."""
    app = create_app(calipso)
    return sorted((method, route.path) for route in app.routes for method in route.methods if method != "HEAD")


def test_every_route_but_the_public_ones_needs_a_token(anonymous, api_url, api_calipso):
    routes = app_routes(api_calipso)
    assert len(routes) == len(resource_operations()) + 1
    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT, headers={TOKEN: "not-a-token"}) as wrong:
        for method, path in routes:
            if (method, path) in PUBLIC:
                continue
            body = {} if method == "POST" else None
            error = assert_error(anonymous.request(method, path, json=body), 401, TOKEN)
            assert error["title"] == "Unauthorized"
            assert_error(wrong.request(method, path, json=body), 401, "unknown or has expired")
    for method, path in PUBLIC - {("POST", "/auth/tokens")}:
        assert anonymous.request(method, path).status_code == 200


def test_read_only_users_cannot_post(viewer):
    posts = [op.path for op in resource_operations() if op.method == "POST" and op.path != "/auth/tokens"]
    assert set(posts) >= {"/clique_types", "/scans", "/scheduled_scans", "/environment_configs",
                          "/connection_tests"}
    for path in posts:
        assert_error(viewer.post(path, json={}), 403, "read-only", path)
    assert viewer.get("/scans", params={"env_name": ENV}).status_code == 200
    assert viewer.delete("/auth/tokens").status_code == 200
