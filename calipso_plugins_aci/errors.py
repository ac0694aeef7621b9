"""The errors of the ACI plugin: what went wrong talking to an APIC, and where.

Every message names the URL asked for (never the password or the session token); a
scan records the error against the object it was fetching under and goes on.
"""

from __future__ import annotations

from calipso_core.errors import CalipsoError


class AciError(CalipsoError):
    """Root of the APIC errors; ``url`` is the request that failed and ``status`` the
    HTTP status when there was an answer (else None)."""

    def __init__(self, url: str, message: str, status: int | None = None):
        self.url, self.status = url, status
        super().__init__(message)

    def __reduce__(self):
        return type(self), (self.url, str(self), self.status)


class AciUnreachable(AciError):
    """Raised when no answer came from the APIC (refused, timed out, reset, or a 5xx /
    429 answer) after the configured retries. The user sees the URL and the last reason."""


class AciTlsError(AciError):
    """Raised when the APIC's TLS certificate is not trusted: the user sees the URL, the
    verification error, and that ``ca_file`` pins the APIC's CA (or ``verify_tls: false``
    turns checking off). Not retried."""


class AciAuthenticationFailed(AciError):
    """Raised when the APIC refuses the configured user and password (``aaaLogin``
    answers 401 or 403); the message names the user and the APIC's own reason."""


class AciRequestFailed(AciError):
    """Raised when the APIC answers a query with an error (4xx, or an ``error`` object
    in ``imdata``); ``code`` and ``text`` are the APIC's own."""

    def __init__(self, url: str, message: str, status: int | None = None, code: str = "", text: str = ""):
        self.code, self.text = code, text
        super().__init__(url, message, status)

    def __reduce__(self):
        return type(self), (self.url, str(self), self.status, self.code, self.text)


class AciResponseError(AciError):
    """Raised when an APIC answer is not the JSON envelope the REST API documents
    (``totalCount`` and ``imdata``); the message says what was wrong with it."""
