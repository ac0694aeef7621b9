"""``calipso_core.users``: salted scrypt password hashes, tokens kept as SHA-256 with an
expiry, roles; and the ``calipso user`` command."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import Clock
from sqlalchemy import select

from calipso_core.cli import user_cmd
from calipso_core.errors import ConfigError, NotFound
from calipso_core.store.tables import api_tokens, users
from calipso_core.users import (
    AuthenticationFailed,
    TokenCache,
    User,
    Users,
    hash_password,
    token_hash,
    verify_password,
)


def test_password_hashes_are_salted_scrypt():
    first, second = hash_password("pässword-1"), hash_password("pässword-1")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("pässword-1", first) and verify_password("pässword-1", second)
    assert not verify_password("pässword-2", first)
    assert not verify_password("pässword-1", "md5$abc") and not verify_password("x", "garbage")


def test_users_authenticate_and_tokens_expire(calipso):
    store = Users(calipso.engine, token_lifetime=timedelta(seconds=-1))
    store.add("ops", "long enough", "read-write")
    with calipso.engine.connect() as conn:
        stored = conn.scalar(select(users.c.password_hash))
    assert "long enough" not in stored and verify_password("long enough", stored)
    user = store.authenticate("ops", "long enough")
    assert user.can_write
    with pytest.raises(AuthenticationFailed):
        store.authenticate("ops", "wrong")
    with pytest.raises(AuthenticationFailed):
        store.authenticate("nobody", "long enough")
    expired = store.issue_token(user, "credentials")
    with pytest.raises(AuthenticationFailed, match="expired"):
        store.validate_token(expired.token)
    fresh = Users(calipso.engine).issue_token(user, "credentials")
    assert Users(calipso.engine).validate_token(fresh.token) == user
    with calipso.engine.connect() as conn:
        assert list(conn.scalars(select(api_tokens.c.token_hash))) == [token_hash(fresh.token)]


def test_bad_users_are_refused(calipso):
    store = Users(calipso.engine)
    with pytest.raises(ConfigError) as error:
        store.add("bad name!", "short", "admin")
    assert len(error.value.errors) == 3
    store.add("ops", "long enough")
    with pytest.raises(ConfigError, match="exists already"):
        store.add("ops", "long enough")
    store.add("ops", "other password", "read-write", replace=True)
    assert store.authenticate("ops", "other password").role == "read-write"


def test_removing_a_user_removes_their_tokens(calipso):
    store = Users(calipso.engine)
    token = store.issue_token(store.add("ops", "long enough"), "credentials").token
    store.remove("ops")
    with pytest.raises(AuthenticationFailed):
        store.validate_token(token)
    with pytest.raises(NotFound):
        store.remove("ops")


def cached_store(calipso, seconds: float = 5) -> tuple[Users, Clock]:
    store, clock = Users(calipso.engine, token_cache=seconds), Clock()
    store.validated = TokenCache(seconds, clock)
    return store, clock


def test_a_cached_token_revoked_elsewhere_works_for_at_most_the_cache_seconds(calipso):
    store, clock = cached_store(calipso)
    user = store.add("ops", "long enough")
    token = store.issue_token(user, "credentials").token
    assert store.validate_token(token) == user
    Users(calipso.engine).revoke_token(token)  # as another process would
    clock.now += 4.9
    assert store.validate_token(token) == user
    clock.now += 0.1
    with pytest.raises(AuthenticationFailed):
        store.validate_token(token)


def test_a_token_revoked_or_a_user_removed_through_the_same_store_stops_at_once(calipso):
    store, _ = cached_store(calipso)
    ops, viewer = store.add("ops", "long enough"), store.add("viewer", "long enough")
    tokens = [store.issue_token(user, "credentials").token for user in (ops, ops, viewer)]
    assert [store.validate_token(token) for token in tokens] == [ops, ops, viewer]
    store.revoke_token(tokens[0])
    with pytest.raises(AuthenticationFailed):
        store.validate_token(tokens[0])
    store.remove("ops")
    with pytest.raises(AuthenticationFailed):
        store.validate_token(tokens[1])
    assert store.validate_token(tokens[2]) == viewer


def test_without_a_cache_every_validation_asks_the_database(calipso):
    store = Users(calipso.engine)
    token = store.issue_token(store.add("ops", "long enough"), "credentials").token
    assert store.validate_token(token).name == "ops"
    Users(calipso.engine).revoke_token(token)
    with pytest.raises(AuthenticationFailed):
        store.validate_token(token)


def test_the_cache_keeps_no_token_past_its_expiry_nor_an_answer_older_than_a_revocation():
    clock, user = Clock(), User("ops", "read-only")
    cache = TokenCache(5, clock)
    cache.put("a", user, datetime.now(UTC) - timedelta(seconds=1), cache.forgotten)
    assert cache.get("a") is None
    read_before = cache.forgotten
    cache.forget("b")  # a revocation while a validation of "b" was reading the database
    cache.put("b", user, datetime.now(UTC) + timedelta(hours=1), read_before)
    assert cache.get("b") is None
    cache.put("b", user, datetime.now(UTC) + timedelta(hours=1), cache.forgotten)
    assert cache.get("b") == user


def parse(*argv: str):
    parser = argparse.ArgumentParser(prog="calipso")
    user_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_user_command_adds_lists_and_removes(calipso, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a fine password\n"))
    args = parse("user", "add", "ops", "--role", "read-write", "--password-stdin")
    assert args.run(calipso, args) == 0
    assert Users(calipso.engine).authenticate("ops", "a fine password").role == "read-write"
    args = parse("user", "list", "--format", "json")
    capsys.readouterr()
    assert args.run(calipso, args) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"]) for u in listed] == [("ops", "read-write")]
    assert "a fine password" not in json.dumps(listed)
    args = parse("user", "remove", "ops")
    assert args.run(calipso, args) == 0
    assert Users(calipso.engine).list() == []


def test_user_command_asks_the_password_twice_on_a_terminal(calipso, monkeypatch):
    answers = iter(["typed password", "typed password", "one password", "another one"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin", type("Terminal", (io.StringIO,), {"isatty": lambda self: True})())
    args = parse("user", "add", "viewer")
    assert args.run(calipso, args) == 0
    assert Users(calipso.engine).authenticate("viewer", "typed password").role == "read-only"
    args = parse("user", "add", "second")
    with pytest.raises(ConfigError, match="differ"):
        args.run(calipso, args)


def test_user_command_without_a_terminal_needs_password_stdin(calipso, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = parse("user", "add", "viewer")
    with pytest.raises(ConfigError, match="--password-stdin"):
        args.run(calipso, args)
