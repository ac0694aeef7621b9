"""Latency and faults for the lab's APIs: an ASGI middleware in front of every service.

- Latency: every request waits a uniformly drawn ``[low, high]`` milliseconds.
- Faults, by path glob (``fnmatch`` on the URL path, e.g. ``/RegionOne/compute/v2.1/servers*``):
  ``error`` answers ``status`` with the service's own error body; ``hang`` holds the
  request unanswered for ``hang_s`` seconds (past any sane client timeout), or until
  the server stops; ``garbled`` answers 200 with a page that is not JSON (what a proxy in
  the way sends). A fault may be limited to a number of requests (``times``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import threading
import time
from collections import deque
from dataclasses import dataclass

from calipso_plugins_openstack.lab.api.common import dumps, error_body, service_of

HANG_POLL_S = 0.05
FAULT_KINDS = ("error", "hang", "garbled")
GARBLED = b"<html><body>502 Bad Gateway</body></html>"
REQUEST_LOG_SIZE = 2000


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it: whether a token came (never the token itself)
    and the Nova microversion asked for (None when the request named none)."""

    method: str
    path: str
    query: str
    with_token: bool
    microversion: str | None


@dataclass
class Fault:
    path_glob: str
    kind: str = "error"
    status: int = 500
    method: str | None = None
    times: int | None = None
    hang_s: float = 120.0
    hits: int = 0

    def applies(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path_glob) \
            and (self.times is None or self.hits < self.times)


class Realism:
    """The knobs, shared between the test thread that turns them and the server thread."""

    def __init__(self, latency_ms: tuple[float, float] = (0.0, 0.0), seed: int = 0):
        self.latency_ms = latency_ms
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.stopping = False
        #: The latest requests, oldest first (bounded).
        self.requests: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)

    def log(self, scope) -> None:
        headers = dict(scope["headers"])
        mv = headers.get(b"x-openstack-nova-api-version")
        self.requests.append(LoggedRequest(scope["method"], scope["path"], scope["query_string"].decode(),
                                           b"x-auth-token" in headers, mv.decode() if mv else None))

    def add_fault(self, path_glob: str, kind: str = "error", status: int = 500, method: str | None = None,
                  times: int | None = None, hang_s: float = 120.0) -> Fault:
        """Make requests whose path matches ``path_glob`` fail (``kind='error'``) or hang."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        fault = Fault(path_glob, kind, status, method, times, hang_s)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _delay_s(self) -> float:
        low, high = self.latency_ms
        if high <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(low, high) / 1000

    async def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            await asyncio.sleep(HANG_POLL_S)


class RealismMiddleware:
    def __init__(self, app, realism: Realism):
        self.app = app
        self.realism = realism

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.realism.log(scope)
        delay = self.realism._delay_s()
        if delay:
            await asyncio.sleep(delay)
        fault = self.realism._fault_for(scope["method"], scope["path"])
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.kind == "hang":
            await self.realism._hang(fault.hang_s)
            status = 504
        else:
            status = 200 if fault.kind == "garbled" else fault.status
        body = GARBLED if fault.kind == "garbled" else dumps(error_body(service_of(scope["path"]), status))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/html" if fault.kind == "garbled" else b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
