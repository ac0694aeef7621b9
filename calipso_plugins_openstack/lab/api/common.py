"""What the lab's Keystone, Nova, Neutron and Placement share: JSON bodies, tokens,
error bodies in each service's own format, and a cache of rendered objects.

Rendering 20,000 servers from scratch for every page would cost seconds; each object's
JSON is therefore kept with the revision it was rendered at, and a list page is the
cached pieces joined.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from calipso_core.lab.ids import LabError
from calipso_core.lab.model import LabModel

JSON = "application/json"
UNAUTHORIZED = "The request you have made requires authentication."


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers=headers, media_type=JSON)


def raw_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers=headers, media_type=JSON)


def list_body(key: str, pieces: Iterable[bytes], extra: dict[str, Any] | None = None) -> bytes:
    """``{"<key>": [<pieces>], <extra>}`` from already encoded items."""
    tail = b"".join(b"," + dumps(k) + b":" + dumps(v) for k, v in (extra or {}).items())
    return b'{"' + key.encode() + b'":[' + b",".join(pieces) + b"]" + tail + b"}"


# --- error bodies, as each service writes them --------------------------------------------------

NOVA_FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
               409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 429: "overLimit",
               501: "notImplemented", 503: "serviceUnavailable"}
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          406: "Not Acceptable", 409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}
INTERNAL = {
    "keystone": "An unexpected error prevented the server from fulfilling your request.",
    "nova": "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova "
            "API log if possible.\n<class 'oslo_db.exception.DBConnectionError'>",
    "neutron": "Request Failed: internal server error while processing your request.",
    "placement": "An unexpected error prevented the server from fulfilling your request.",
}


def error_body(service: str, status: int, message: str | None = None, error_type: str | None = None) -> dict:
    """The body a real service sends with ``status``: Keystone ``{"error"}``, Nova
    ``{"<fault name>"}``, Neutron ``{"NeutronError"}``, Placement ``{"errors"}``."""
    message = message or (UNAUTHORIZED if status == 401 else INTERNAL[service] if status >= 500 else
                          TITLES.get(status, "Error"))
    title = TITLES.get(status, "Error")
    if status == 401 or service == "keystone":  # keystonemiddleware answers 401 for every service
        return {"error": {"code": status, "message": message, "title": title}}
    if service == "nova":
        return {NOVA_FAULTS.get(status, "computeFault"): {"code": status, "message": message}}
    if service == "neutron":
        kind = error_type or ("HTTPInternalServerError" if status >= 500 else title.replace(" ", ""))
        return {"NeutronError": {"type": kind, "message": message, "detail": ""}}
    return {"errors": [{"status": status, "title": title, "detail": message, "request_id": "req-lab"}]}


def error_response(service: str, status: int, message: str | None = None, error_type: str | None = None) -> Response:
    headers = {"WWW-Authenticate": "Keystone uri='/v3'"} if status == 401 else None
    return json_response(error_body(service, status, message, error_type), status, headers)


def lab_error_response(service: str, error: LabError) -> Response:
    return error_response(service, error.status, str(error), error.error_type)


def service_of(path: str) -> str:
    """Which service a request path belongs to (for error bodies of injected faults)."""
    parts = path.strip("/").split("/")
    if len(parts) > 1 and parts[1] in ("compute", "network", "placement"):
        return {"compute": "nova", "network": "neutron", "placement": "placement"}[parts[1]]
    return "keystone"


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    user_id: str
    project_id: str | None
    issued_at: datetime
    expires_at: datetime
    methods: tuple[str, ...]
    audit_id: str


class TokenStore:
    """Tokens issued by the lab's Keystone; opaque random strings, never logged."""

    def __init__(self):
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, token: Token) -> str:
        value = "gAAAAA" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[value] = token
        return value

    def check(self, value: str | None, now: datetime) -> Token | None:
        if not value:
            return None
        with self._lock:
            token = self._tokens.get(value)
        return token if token is not None and token.expires_at > now else None

    def revoke(self, value: str) -> bool:
        with self._lock:
            return self._tokens.pop(value, None) is not None

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()


def base_url(request: Request) -> str:
    """``http://host:port`` as the client addressed the server (links must point back there)."""
    return f"{request.url.scheme}://{request.url.netloc}"


# --- the render cache -------------------------------------------------------------------------------


class RenderCache:
    """Rendered objects by (kind, variant) and id, valid while the record's revision holds.

    A variant captures what else the rendering depends on (base URL, microversion range).
    Entries of deleted objects are dropped once they outnumber the live ones.
    """

    def __init__(self):
        self._tables: dict[tuple[str, Any], dict[str, tuple[int, dict, bytes]]] = {}

    def get(self, kind: str, variant: Any, key: str, revision: int,
            build: Callable[[], dict]) -> tuple[dict, bytes]:
        table = self._tables.setdefault((kind, variant), {})
        entry = table.get(key)
        if entry is None or entry[0] != revision:
            body = build()
            entry = (revision, body, dumps(body))
            table[key] = entry
        return entry[1], entry[2]

    def prune(self, kind: str, live: dict[str, Any]) -> None:
        for (table_kind, _), table in self._tables.items():
            if table_kind == kind and len(table) > len(live) + 1000:
                for key in [k for k in table if k not in live]:
                    del table[key]


@dataclass
class ApiContext:
    """What every route handler needs: the model, tokens, caches and the server's knobs."""

    model: LabModel
    tokens: TokenStore
    cache: RenderCache
    clock: Callable[[], datetime]
    username: str
    password: str
    token_lifetime_s: float = 12 * 3600
    nova_max_version: str = "2.96"
    nova_max_limit: int = 1000
    neutron_max_limit: int = -1

    def authenticated(self, request: Request) -> Token | None:
        return self.tokens.check(request.headers.get("x-auth-token"), self.clock())

    def region(self, request: Request) -> str:
        region = request.path_params.get("region", "")
        if region not in self.model.regions:
            raise LabError(f"region {region} is not served here", 404, "NotFound")
        return region


def truthy(value: str | None) -> bool:
    """oslo's bool_from_string for query flags: an empty value counts as set."""
    return value is not None and value.strip().lower() not in ("0", "false", "f", "no", "n", "off")
