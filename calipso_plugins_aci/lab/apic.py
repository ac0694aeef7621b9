"""The lab's APIC: the REST API of a Cisco APIC over the lab's fabric, on loopback.

``LabApic(model, password=...)`` answers, as an APIC does:

- ``POST /api/aaaLogin.json`` (``{"aaaUser": {"attributes": {"name", "pwd"}}}``): a token
  in an ``aaaLogin`` object and in the ``APIC-cookie`` cookie; 401 for a wrong password;
- ``GET /api/aaaRefresh.json``: a new token for the session (until its maximum lifetime);
- ``POST /api/aaaLogout.json``: the token is dropped;
- ``GET /api/class/<class>.json`` and ``GET /api/mo/<dn>.json`` with the query parameters
  of ``calipso_plugins_aci.lab.mos`` and ``filters``, ``page`` and ``page-size``, in the
  ``totalCount``/``imdata`` envelope; 403 without a valid token.

Tokens last ``refresh_timeout_s``; ``expire_sessions()`` drops them all and
``fail_next(n, status)`` makes the next ``n`` requests fail, for tests of the client.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calipso_core.lab.http import ThreadedServer
from calipso_core.lab.model import LabModel
from calipso_plugins_aci.lab.fabric import APIC_VERSION, fabric_objects
from calipso_plugins_aci.lab.filters import FilterError, parse_filter
from calipso_plugins_aci.lab.mos import MoStore, ordered

COOKIE = "APIC-cookie"
_CLASS_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")
INVALID_TOKEN = "Token was invalid (Error: Token timeout)"
NO_TOKEN = "Need a valid webtoken cookie (named APIC-Cookie) or a signed request with signature in the cookie."


@dataclass
class _Session:
    user: str
    started: float
    expires: float


def envelope(items: list[dict], total: int | None = None) -> dict:
    return {"totalCount": str(len(items) if total is None else total), "imdata": items}


def error_response(status: int, code: str, text: str) -> JSONResponse:
    return JSONResponse(envelope([{"error": {"attributes": {"code": code, "text": text}}}]), status)


class LabApic:
    """The APIC of a lab model, served by uvicorn on 127.0.0.1 (plain HTTP)."""

    def __init__(self, model: LabModel, *, user: str = "admin", password: str | None = None,
                 refresh_timeout_s: float = 600, max_lifetime_s: float = 86400,
                 latency_ms: tuple[float, float] = (0.0, 0.0), clock: Callable[[], float] = time.monotonic):
        self.user = user
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.refresh_timeout_s, self.max_lifetime_s = refresh_timeout_s, max_lifetime_s
        self.latency_ms = latency_ms
        self.token_error_status = 403
        self.store = MoStore(fabric_objects(model))
        self.requests: deque[tuple[str, str]] = deque(maxlen=10_000)
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._faults: list[int] = []
        self.app = self._build_app()
        self._server = ThreadedServer(self.app, "lab-apic")

    # -- life cycle and test controls --------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> LabApic:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LabApic:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def expire_sessions(self) -> None:
        """Forget every token, as an APIC does when sessions time out."""
        with self._lock:
            self._sessions.clear()

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (and no data)."""
        with self._lock:
            self._faults.extend([status] * count)

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (of one method, if given)."""
        return [path for m, path in list(self.requests) if method is None or m == method]

    # -- the API -----------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        routes = [
            Route("/api/aaaLogin.json", self._served(self._login), methods=["POST"]),
            Route("/api/aaaRefresh.json", self._served(self._refresh), methods=["GET", "POST"]),
            Route("/api/aaaLogout.json", self._served(self._logout), methods=["POST"]),
            Route("/api/class/{cls}.json", self._served(self._authorized(self._class_query)), methods=["GET"]),
            Route("/api/mo/{dn:path}.json", self._served(self._authorized(self._mo_query)), methods=["GET"]),
        ]
        return Starlette(routes=routes)

    def _served(self, handler):
        async def serve(request: Request):
            self.requests.append((request.method, request.url.path))
            low, high = self.latency_ms
            if high > 0:
                await asyncio.sleep(random.uniform(low, high) / 1000)
            with self._lock:
                fault = self._faults.pop(0) if self._faults else None
            if fault is not None:
                return error_response(fault, str(fault), "Service Unavailable (lab fault)")
            return await handler(request)

        return serve

    def _authorized(self, handler):
        async def check(request: Request):
            token = request.cookies.get(COOKIE)
            if not token:
                return error_response(self.token_error_status, str(self.token_error_status), NO_TOKEN)
            if self._session(token) is None:
                return error_response(self.token_error_status, str(self.token_error_status), INVALID_TOKEN)
            return await handler(request)

        return check

    def _session(self, token: str) -> _Session | None:
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and (now >= session.expires or now >= session.started + self.max_lifetime_s):
                del self._sessions[token]
                return None
            return session

    def _issue(self, user: str, started: float) -> JSONResponse:
        token = secrets.token_urlsafe(96)
        now = self._clock()
        with self._lock:
            self._sessions[token] = _Session(user, started, now + self.refresh_timeout_s)
        stamp = str(int(time.time()))
        login = {
            "buildTime": "Sat Mar 13 01:57:41 UTC 2021", "changePassword": "no", "creationTime": stamp,
            "firstLoginTime": stamp, "firstName": "", "guiIdleTimeoutSeconds": "1200", "lastName": "",
            "maximumLifetimeSeconds": str(int(self.max_lifetime_s)), "node": "topology/pod-1/node-1",
            "refreshTimeoutSeconds": str(int(self.refresh_timeout_s)), "remoteUser": "false",
            "restTimeoutSeconds": "90", "sessionId": secrets.token_urlsafe(16), "siteFingerprint": "lab",
            "token": token, "unixUserId": "15374", "urlToken": secrets.token_hex(32), "userName": user,
            "version": APIC_VERSION,
        }
        response = JSONResponse(envelope([{"aaaLogin": {"attributes": login}}]))
        response.set_cookie(COOKIE, token, path="/", httponly=True)
        return response

    async def _login(self, request: Request):
        try:
            body = await request.json()
            credentials = body["aaaUser"]["attributes"]
            name, password = credentials["name"], credentials["pwd"]
        except (ValueError, KeyError, TypeError):
            return error_response(400, "400", "Failed to parse login request")
        if name != self.user or not secrets.compare_digest(str(password), self.password):
            return error_response(401, "401", f"Username or password or domain is incorrect for user {name}")
        return self._issue(name, self._clock())

    async def _refresh(self, request: Request):
        token = request.cookies.get(COOKIE, "")
        session = self._session(token) if token else None
        if session is None:
            return error_response(self.token_error_status, str(self.token_error_status), INVALID_TOKEN)
        return self._issue(session.user, session.started)

    async def _logout(self, request: Request):
        with self._lock:
            self._sessions.pop(request.cookies.get(COOKIE, ""), None)
        return JSONResponse(envelope([]))

    async def _class_query(self, request: Request):
        cls = request.path_params["cls"]
        if not _CLASS_NAME.match(cls):
            return error_response(400, "122", f"unknown managed object class {cls}")
        return self._answer(request, self.store.of_class(cls))

    async def _mo_query(self, request: Request):
        params = request.query_params
        target = params.get("query-target", "self")
        if target not in ("self", "children", "subtree"):
            return error_response(400, "107", f"invalid query-target {target}")
        classes = {c for c in params.get("target-subtree-class", "").split(",") if c}
        return self._answer(request, self.store.below(request.path_params["dn"], target, classes or None))

    def _answer(self, request: Request, mos) -> JSONResponse:
        params = request.query_params
        try:
            if params.get("query-target-filter"):
                predicate = parse_filter(params["query-target-filter"])
                mos = [mo for mo in mos if predicate(mo)]
            page, size = int(params.get("page", 0)), int(params.get("page-size", 0)) or None
        except FilterError as error:
            return error_response(400, "121", str(error))
        except ValueError:
            return error_response(400, "107", "page and page-size must be whole numbers")
        mos = ordered(mos, params.get("order-by"))
        total = len(mos)
        if size:
            mos = mos[page * size:(page + 1) * size]
        with_children = params.get("rsp-subtree") in ("children", "full")
        child_classes = {c for c in params.get("rsp-subtree-class", "").split(",") if c} or None
        return JSONResponse(envelope([mo.render(child_classes, with_children) for mo in mos], total))
