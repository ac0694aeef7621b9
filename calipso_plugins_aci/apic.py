"""A client of the APIC REST API over httpx.

It logs in with ``aaaLogin.json`` and sends the session token as the ``APIC-cookie``
cookie; it refreshes the token with ``aaaRefresh.json`` once half of its
``refreshTimeoutSeconds`` has passed, and logs in anew before the session's
``maximumLifetimeSeconds`` ends or when the APIC rejects the token (401/403). Connection
failures and 429/5xx answers are retried with exponential back-off. TLS certificates
are verified unless ``verify_tls`` is false; ``ca_file`` pins the APIC's CA.

    client = ApicClient.from_section(config_section(env, "ACI"))
    nodes = client.query_class("fabricNode")
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from calipso_core.errors import ConfigError
from calipso_plugins_aci.errors import (
    AciAuthenticationFailed,
    AciRequestFailed,
    AciResponseError,
    AciTlsError,
    AciUnreachable,
)
from calipso_plugins_aci.mo import api_error, attributes, imdata

log = logging.getLogger(__name__)

LOGIN = "/api/aaaLogin.json"
REFRESH = "/api/aaaRefresh.json"
LOGOUT = "/api/aaaLogout.json"
COOKIE = "APIC-cookie"
#: Refresh the token when this share of its lifetime has passed.
REFRESH_AT = 0.5
#: Log in anew when this share of the session's maximum lifetime has passed.
RELOGIN_AT = 0.9
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 10.0
MAX_PAGES = 10_000


@dataclass
class ApicSession:
    """A logged-in session; times are the client clock's."""

    token: str
    refresh_timeout_s: float
    max_lifetime_s: float
    started: float
    refreshed: float


def tls_context(verify_tls: bool = True, ca_file: str | None = None) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` takes: False, True (the system's CAs) or a context that
    trusts ``ca_file`` only."""
    if not verify_tls:
        return False
    if not ca_file:
        return True
    path = Path(ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"ACI ca_file {str(path)!r} cannot be used as a CA bundle: {error}") from error


def _tls_failure(error: BaseException) -> ssl.SSLError | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


class ApicClient:
    """One APIC session, shared by the threads of a scan."""

    def __init__(self, url: str, user: str, password: str, *, verify: ssl.SSLContext | bool = True,
                 timeout_s: float = 30.0, retries: int = 3, backoff_s: float = 0.5, page_size: int = 5000,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.base_url = url.rstrip("/")
        self.user = user
        self._password = password
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.page_size = page_size
        self._clock, self._sleep = clock, sleep
        self._lock = threading.RLock()
        self._session: ApicSession | None = None
        self._http = httpx.Client(base_url=self.base_url, verify=verify, headers={"Accept": "application/json"},
                                  timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)))

    @classmethod
    def from_section(cls, section: Mapping[str, Any], **options: Any) -> ApicClient:
        """A client for an environment's ``ACI`` configuration section."""
        protocol = section.get("protocol", "https")
        port = section.get("port") or (443 if protocol == "https" else 80)
        host = section["host"]
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        verify = tls_context(section.get("verify_tls", True), section.get("ca_file")) if protocol == "https" else True
        return cls(f"{protocol}://{host}:{port}", section["user"], section.get("pwd", ""), verify=verify, **options)

    def __repr__(self) -> str:
        return f"ApicClient({self.base_url!r}, user={self.user!r})"

    # -- session ---------------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self._session.token if self._session else None

    def login(self) -> None:
        """Log in with the configured user; ``AciAuthenticationFailed`` if refused."""
        with self._lock:
            self._login()

    def refresh(self) -> None:
        """Trade the token for a fresh one (``aaaRefresh``); logs in if it was rejected."""
        with self._lock:
            if self._session is None:
                self._login()
            else:
                self._refresh()

    def _login(self) -> None:
        url = self.base_url + LOGIN
        body = {"aaaUser": {"attributes": {"name": self.user, "pwd": self._password}}}
        response = self._send("POST", LOGIN, json=body)
        if response.status_code in (400, 401, 403):
            reason = (api_error(self._json(response)) or ("", response.reason_phrase))[1]
            raise AciAuthenticationFailed(url, f"APIC {url} refused the login of user {self.user!r}: {reason}",
                                          response.status_code)
        now = self._clock()
        self._session = self._session_from(self._body(response, url), url, started=now, now=now)
        log.debug("logged in to %s as %s", self.base_url, self.user)

    def _refresh(self) -> None:
        url = self.base_url + REFRESH
        response = self._send("GET", REFRESH, token=self._session.token)
        if response.status_code in (401, 403):
            self._login()
            return
        self._session = self._session_from(self._body(response, url), url, started=self._session.started,
                                           now=self._clock())
        log.debug("refreshed the session on %s", self.base_url)

    def _session_from(self, body: Any, url: str, started: float, now: float) -> ApicSession:
        _total, items = imdata(body, url)
        if not items or not {"aaaLogin", "aaaRefresh"} & set(items[0]):
            raise AciResponseError(url, f"APIC answer to {url} holds no aaaLogin object")
        found = attributes(items[0])
        if not found.get("token"):
            raise AciResponseError(url, f"APIC answer to {url} holds no token")
        try:
            timeout = float(found.get("refreshTimeoutSeconds") or 300)
            lifetime = float(found.get("maximumLifetimeSeconds") or 86400)
        except ValueError:
            raise AciResponseError(url, f"APIC answer to {url} has session times that are not numbers") from None
        return ApicSession(found["token"], timeout, lifetime, started, now)

    def _current_token(self) -> str:
        """The token to send, refreshed or renewed first when it is getting old."""
        with self._lock:
            session, now = self._session, self._clock()
            if session is None or now - session.started >= session.max_lifetime_s * RELOGIN_AT:
                self._login()
            elif now - session.refreshed >= session.refresh_timeout_s * REFRESH_AT:
                self._refresh()
            return self._session.token

    def _renew_after_rejection(self, rejected: str) -> str:
        with self._lock:
            if self._session is None or self._session.token == rejected:
                self._login()
            return self._session.token

    # -- queries ---------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer to an authenticated GET; one new login if the token is rejected."""
        url = self.base_url + path
        token = self._current_token()
        response = self._send("GET", path, params=params, token=token)
        if response.status_code in (401, 403):
            log.debug("APIC %s rejected the session token (%s); logging in again", url, response.status_code)
            response = self._send("GET", path, params=params, token=self._renew_after_rejection(token))
        return self._body(response, url)

    def query_class(self, cls: str, query_filter: str | None = None,
                    params: Mapping[str, Any] | None = None) -> list[dict]:
        """Every object of class ``cls`` (``/api/class/<cls>.json``), page by page."""
        wanted = {"order-by": f"{cls}.dn", **(params or {})}
        if query_filter:
            wanted["query-target-filter"] = query_filter
        return self._paged(f"/api/class/{cls}.json", wanted)

    def query_mo(self, dn: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """The object ``dn`` or, with ``query-target``, its children or subtree."""
        return self._paged(f"/api/mo/{dn}.json", dict(params or {}))

    def _paged(self, path: str, params: dict[str, Any]) -> list[dict]:
        url = self.base_url + path
        items: list[dict] = []
        for page in range(MAX_PAGES):
            total, batch = imdata(self.get(path, {**params, "page": page, "page-size": self.page_size}), url)
            items += batch
            if len(batch) < self.page_size or len(items) >= total:
                return items
        raise AciResponseError(url, f"APIC answer to {url} goes on past {MAX_PAGES} pages")

    def close(self) -> None:
        """Log out (once, errors ignored) and close the connections."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            try:
                self._send("POST", LOGOUT, json={"aaaUser": {"attributes": {"name": self.user}}},
                           token=session.token, attempts=1)
            except (AciUnreachable, AciTlsError):
                log.debug("logout from %s failed", self.base_url)
        self._http.close()

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
              token: str | None = None, attempts: int | None = None) -> httpx.Response:
        """One request, retried on connection failures and 429/5xx with back-off."""
        url = self.base_url + path
        headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
        attempts = attempts or self.retries + 1
        reason, status = "no attempt made", None
        for attempt in range(attempts):
            if attempt:
                self._sleep(min(self.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
            try:
                response = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as error:
                tls = _tls_failure(error)
                if tls is not None:
                    raise AciTlsError(url, f"TLS with the APIC {url} failed: {tls}; set ca_file to the APIC's "
                                           f"CA certificate (or verify_tls: false to skip the check)") from error
                reason, status = f"{type(error).__name__}: {error}", None
                continue
            if response.status_code in RETRYABLE_STATUS:
                reason, status = f"HTTP {response.status_code} {response.reason_phrase}", response.status_code
                continue
            return response
        raise AciUnreachable(url, f"APIC {url} gave no usable answer after {attempts} attempt(s): {reason}", status)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _body(self, response: httpx.Response, url: str) -> Any:
        body = self._json(response)
        if response.status_code >= 400:
            code, text = api_error(body) or ("", response.reason_phrase)
            detail = f"error {code}: {text}" if code else text
            raise AciRequestFailed(url, f"APIC answered {response.status_code} to {url}: {detail}",
                                   response.status_code, code, text)
        if body is None:
            raise AciResponseError(url, f"APIC answer to {url} is not JSON", response.status_code)
        return body
