"""Every error the API answers has the original Calipso's body:
``{"error": {"message": ..., "code": <status>, "title": <status phrase>}}``."""

from __future__ import annotations

import http
import logging

import orjson
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from calipso_core import db
from calipso_core.errors import CalipsoError, ConfigError, DatabaseError, NotFound, PluginError

log = logging.getLogger(__name__)


class ApiError(CalipsoError):
    """Raised by the API's handlers; the client sees ``status`` and ``message`` in the
    error body. Bad parameters name the parameter first (``"page: not an integer"``)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def bad_request(parameter: str, reason: str) -> ApiError:
    """400 naming the parameter (or body field) and what is wrong with it."""
    return ApiError(400, f"{parameter}: {reason}")


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


class CalipsoJSONResponse(JSONResponse):
    """JSON with dates as ISO 8601 strings (as the database layer writes them), made by
    orjson (several times faster than the standard encoder on documents); what orjson
    does not take (integers past 64 bits) by the standard encoder."""

    def render(self, content) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return db.dumps(content).encode("utf-8")


def error_body(status: int, message: str) -> dict:
    return {"error": {"message": message, "code": status, "title": http.HTTPStatus(status).phrase}}


def error_response(status: int, message: str, headers: dict | None = None) -> CalipsoJSONResponse:
    return CalipsoJSONResponse(error_body(status, message), status_code=status, headers=headers)


#: The status each kind of Calipso error is answered with.
STATUS_OF_ERROR: tuple[tuple[type[CalipsoError], int], ...] = (
    (NotFound, 404),
    (ConfigError, 400),
    (PluginError, 400),
    (DatabaseError, 503),
)


def status_of(error: CalipsoError) -> int:
    if isinstance(error, ApiError):
        return error.status
    return next((status for kind, status in STATUS_OF_ERROR if isinstance(error, kind)), 500)


async def handle_calipso_error(request: Request, error: Exception) -> CalipsoJSONResponse:
    assert isinstance(error, CalipsoError)
    headers = {"WWW-Authenticate": "X-Auth-Token"} if status_of(error) == 401 else None
    return error_response(status_of(error), str(error), headers)


async def handle_http_exception(request: Request, error: Exception) -> CalipsoJSONResponse:
    """Starlette's own errors: unknown path (404), wrong method (405), body too large."""
    assert isinstance(error, HTTPException)
    message = {404: f"no such resource: {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}.get(error.status_code, error.detail)
    return error_response(error.status_code, message, dict(error.headers or {}))


async def handle_database_unavailable(request: Request, error: Exception) -> CalipsoJSONResponse:
    """The database cannot be reached (or refused the work): 503, so clients retry."""
    log.warning("database unavailable answering %s %s: %s", request.method, request.url.path,
                type(getattr(error, "orig", error)).__name__)
    return error_response(503, "the database is unavailable; try again later")


async def handle_unexpected(request: Request, error: Exception) -> CalipsoJSONResponse:
    """Anything else is a bug: the client gets a 500 without internals."""
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error_response(500, "internal error; see the server's log")


EXCEPTION_HANDLERS = {
    CalipsoError: handle_calipso_error,
    OperationalError: handle_database_unavailable,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
