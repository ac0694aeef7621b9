"""API users and their tokens.

Passwords are kept as salted scrypt hashes (``hashlib.scrypt``, a random 16-byte salt
per password). A token is a random URL-safe string handed to the client once; only its
SHA-256 is stored, with the user's role and an expiry, so a copy of the database does
not let anyone call the API.

A ``Users`` store may remember the tokens it has validated for a few seconds
(``token_cache``), so that a busy API does not ask the database on every request.
A token revoked (or a user removed) through that same store stops working at once;
through another process (another API worker, ``calipso user remove``) it keeps working
there for at most ``token_cache`` seconds. A token never outlives its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from calipso_core.errors import CalipsoError, ConfigError, NotFound
from calipso_core.store.tables import api_tokens, users

READ_ONLY = "read-only"
READ_WRITE = "read-write"
ROLES = (READ_ONLY, READ_WRITE)
DEFAULT_TOKEN_LIFETIME = timedelta(days=1)
#: Seconds the API remembers a validated token (the longest a token revoked elsewhere
#: keeps working in a process that validated it just before).
DEFAULT_TOKEN_CACHE = 5.0
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

# scrypt cost: 16 MiB of memory and ~50 ms per hash on one core.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32


class AuthenticationFailed(CalipsoError):
    """Raised when a user name and password, or a token, are not valid. The message
    never says which of the two was wrong."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (base64) for ``password``, with a new salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
                            dklen=_HASH_BYTES)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by ``hash_password`` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so that both failures take as long."""
    return hash_password(secrets.token_urlsafe(12))


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class User:
    """An API user: a name and a role (``read-only`` or ``read-write``)."""

    name: str
    role: str

    @property
    def can_write(self) -> bool:
        return self.role == READ_WRITE


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed to the client (the only time its text is known)."""

    token: str
    user: User
    method: str
    issued_at: datetime
    expires_at: datetime

    def as_response(self) -> dict:
        return {"token": self.token, "username": self.user.name, "role": self.user.role, "method": self.method,
                "issued_at": self.issued_at.isoformat(), "expires_at": self.expires_at.isoformat()}


class TokenCache:
    """Validated tokens (by their SHA-256), each kept for ``seconds`` at most and never
    past its expiry. Shared by the threads of a process: each step is one dict operation,
    and a validation that read the database before a token was forgotten is not kept
    (``forgotten`` counts the forgetting)."""

    #: Entries kept at most; past it the cache starts again empty.
    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.forgotten = 0
        self._entries: dict[str, tuple[User, float, datetime]] = {}

    def get(self, digest: str) -> User | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        user, kept_until, expires_at = entry
        if self.clock() >= kept_until or datetime.now(UTC) >= expires_at:
            self._entries.pop(digest, None)
            return None
        return user

    def put(self, digest: str, user: User, expires_at: datetime, forgotten: int) -> None:
        """Keep ``user`` for ``digest``, unless something was forgotten since the caller
        read ``forgotten`` (its database answer may be older than that)."""
        if self.seconds <= 0 or forgotten != self.forgotten:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (user, self.clock() + self.seconds, expires_at)

    def forget(self, digest: str) -> None:
        self.forgotten += 1
        self._entries.pop(digest, None)

    def forget_user(self, name: str) -> None:
        self.forgotten += 1
        for digest, (user, _, _) in list(self._entries.items()):
            if user.name == name:
                self._entries.pop(digest, None)


def check_new_user(name: str, password: str, role: str) -> None:
    """Raise ``ConfigError`` when a user could not be added as given."""
    problems = []
    if not USERNAME_PATTERN.match(name):
        problems.append(f"name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        problems.append(f"role {role!r}: one of {', '.join(ROLES)}")
    if problems:
        raise ConfigError(f"user {name!r} cannot be added:", problems)


#: The user and expiry of a stored token that has not expired.
_VALID_TOKEN = select(api_tokens.c.username, api_tokens.c.role, api_tokens.c.expires_at).where(
    api_tokens.c.token_hash == bindparam("digest"), api_tokens.c.expires_at > bindparam("now"))


class Users:
    """The ``users`` and ``api_tokens`` tables; validated tokens are remembered for
    ``token_cache`` seconds (0: the database is asked every time)."""

    def __init__(self, engine: Engine, token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
                 token_cache: float = 0):
        self.engine = engine
        self.token_lifetime = token_lifetime
        self.validated = TokenCache(token_cache)

    # -- users -----------------------------------------------------------------------

    def add(self, name: str, password: str, role: str = READ_ONLY, replace: bool = False) -> User:
        """Store a user; an existing name is an error unless ``replace``."""
        check_new_user(name, password, role)
        stmt = insert(users).values(name=name, password_hash=hash_password(password), role=role,
                                    doc={"name": name, "role": role})
        if replace:
            stmt = stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"password_hash": stmt.excluded.password_hash, "role": role, "doc": stmt.excluded.doc})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=["name"])
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount == 0:
                raise ConfigError(f"user {name!r} exists already (use --replace to change it)")
        return User(name, role)

    def list(self) -> list[dict]:
        query = select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def remove(self, name: str) -> None:
        """Delete a user and every token issued to them."""
        with self.engine.begin() as conn:
            conn.execute(delete(api_tokens).where(api_tokens.c.username == name))
            if conn.execute(delete(users).where(users.c.name == name)).rowcount == 0:
                raise NotFound(f"no user named {name!r}")
        self.validated.forget_user(name)

    def authenticate(self, name: str, password: str) -> User:
        """The user whose name and password these are, else ``AuthenticationFailed``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.password_hash, users.c.role).where(users.c.name == name)).first()
        stored = row.password_hash if row else _dummy_hash()
        if not verify_password(password, stored) or row is None:
            raise AuthenticationFailed("invalid user name or password")
        return User(name, row.role)

    # -- tokens ----------------------------------------------------------------------

    def issue_token(self, user: User, method: str) -> IssuedToken:
        """A new token for ``user``, valid for ``token_lifetime``."""
        token = secrets.token_urlsafe(32)
        issued = datetime.now(UTC)
        record = IssuedToken(token, user, method, issued, issued + self.token_lifetime)
        with self.engine.begin() as conn:
            conn.execute(api_tokens.delete().where(api_tokens.c.expires_at <= issued))
            conn.execute(insert(api_tokens).values(
                token_hash=token_hash(token), username=user.name, role=user.role, method=method,
                issued_at=record.issued_at, expires_at=record.expires_at))
        return record

    def validate_token(self, token: str) -> User:
        """The user a token was issued to, if it exists and has not expired."""
        digest = token_hash(token)
        if (user := self.validated.get(digest)) is not None:
            return user
        forgotten = self.validated.forgotten
        with self.engine.connect() as conn:
            row = conn.execute(_VALID_TOKEN, {"digest": digest, "now": datetime.now(UTC)}).first()
        if row is None:
            raise AuthenticationFailed("the token is unknown or has expired")
        user = User(row.username, row.role)
        self.validated.put(digest, user, row.expires_at, forgotten)
        return user

    def revoke_token(self, token: str) -> bool:
        """Delete a token; whether it existed."""
        digest = token_hash(token)
        with self.engine.begin() as conn:
            result = conn.execute(delete(api_tokens).where(api_tokens.c.token_hash == digest))
        self.validated.forget(digest)
        return result.rowcount > 0

