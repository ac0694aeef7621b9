"""``/auth/tokens``: get a token (with a user name and password, or a valid token) and
give it back."""

from __future__ import annotations

from calipso_core.api import auth
from calipso_core.api.errors import ApiError
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, TIME, obj
from calipso_core.users import AuthenticationFailed, User


def _user_for(call: Call) -> tuple[User, str]:
    """The user the request proves to be, with the method that proved it."""
    request = call.body["auth"]
    users = call.api.users
    for method in request["methods"]:
        try:
            if method == "credentials":
                credentials = request["credentials"]
                return users.authenticate(credentials["username"], credentials["password"]), method
            return users.validate_token(request["token"]), method
        except AuthenticationFailed:
            continue
    raise ApiError(401, "authentication failed: " + " and ".join(request["methods"]) + " not valid")


def create_token(call: Call) -> dict:
    user, method = _user_for(call)
    return call.api.users.issue_token(user, method).as_response()


def delete_token(call: Call) -> dict:
    call.api.users.revoke_token(auth.request_token(call.request))
    return {"message": "token revoked"}


TOKEN = obj(("token", "issued_at", "expires_at", "method"), token=STRING, username=STRING, role=STRING,
            method=STRING, issued_at=TIME, expires_at=TIME)

OPERATIONS = [
    Operation("POST", "/auth/tokens", create_token, "Get a token", body="auth_token", status=201,
              response=TOKEN, public=True, errors=(400, 401),
              description="Send the token back in the X-Auth-Token header of every other request."),
    Operation("DELETE", "/auth/tokens", delete_token, "Revoke the token of this request",
              response=obj(("message",), message=STRING)),
]
