"""Token authentication: every operation that is not public needs a valid
``X-Auth-Token`` header (401 without one); operations that write need the read-write
role (403 for read-only users)."""

from __future__ import annotations

from starlette.requests import Request

from calipso_core.api.errors import ApiError
from calipso_core.users import AuthenticationFailed, User, Users

TOKEN_HEADER = "X-Auth-Token"


def request_token(request: Request) -> str:
    """The request's token, else 401."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if not token:
        raise ApiError(401, f"authentication required: send a token in the {TOKEN_HEADER} header "
                            "(get one with POST /auth/tokens)")
    return token


def authenticate(users: Users, request: Request) -> User:
    """The user the request's token was issued to, else 401."""
    token = request_token(request)
    try:
        return users.validate_token(token)
    except AuthenticationFailed as error:
        raise ApiError(401, str(error)) from None


def authorize(user: User, writes: bool, request: Request) -> None:
    """403 when a read-only user asks for an operation that changes something."""
    if writes and not user.can_write:
        raise ApiError(403, f"user {user.name!r} has the read-only role: "
                            f"{request.method} {request.url.path} needs read-write")
