"""An API operation declared once: its path, method, parameters, body schema, response
schema and handler. The same declaration serves the request (authentication, checks,
the handler run in a worker thread) and the OpenAPI document."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from calipso_core.api import auth
from calipso_core.api.errors import ApiError, CalipsoJSONResponse
from calipso_core.api.listing import check_constants
from calipso_core.api.validation import Param, load_api_schema, parse_json, parse_query, validate_body
from calipso_core.context import Calipso
from calipso_core.store import Inventory
from calipso_core.users import User, Users

JSON = Mapping[str, Any]
MAX_BODY_BYTES = 1024 * 1024
#: Handlers running at once when the engine's pool does not say.
DEFAULT_HANDLERS = 40


@dataclass(frozen=True)
class Operation:
    """One method on one path.

    ``handler(call)`` runs in a worker thread and returns a JSON-able value (answered
    with ``status``) or a ``Response``. ``body`` names a schema in ``schemas/api/``
    (or ``body_loader`` returns one kept elsewhere).
    ``public`` operations need no token; ``writes`` ones need the read-write role.
    ``errors`` are the error statuses the operation may answer besides 401/403;
    ``other_responses`` maps further statuses to their own body schemas.
    """

    method: str
    path: str
    handler: Callable[[Call], Any]
    summary: str
    params: tuple[Param, ...] = ()
    body: str | None = None
    body_loader: Callable[[], dict] | None = None
    status: int = 200
    response: JSON = field(default_factory=lambda: {"type": "object"})
    public: bool = False
    writes: bool = False
    errors: tuple[int, ...] = (400,)
    description: str = ""
    other_responses: JSON = field(default_factory=dict)

    @property
    def body_schema(self) -> dict | None:
        if self.body_loader is not None:
            return self.body_loader()
        return load_api_schema(self.body) if self.body else None

    @property
    def tag(self) -> str:
        return self.path.strip("/").split("/")[0]


def handler_threads(count: int = DEFAULT_HANDLERS) -> ThreadPoolExecutor:
    """``count`` threads that run the handlers; requests past them wait their turn.
    (A thread pool of the event loop's own: anyio's ``to_thread`` with a capacity
    limiter took a tenth of a request's CPU to hand a call over and back.)"""
    return ThreadPoolExecutor(count, thread_name_prefix="calipso-api")


@dataclass(frozen=True)
class ApiState:
    """What every handler can reach: the Calipso context and the users store; and the
    threads the handlers run in (as many as ``handler_limit``)."""

    calipso: Calipso
    users: Users
    handlers: Executor = field(default_factory=handler_threads)


def handler_limit(engine: Engine) -> int:
    """As many handlers at once as the engine's pool keeps connections. Each handler
    holds one connection at a time; with more handlers than that, the pool opens an
    extra connection for the surplus and closes it again at check-in, a new PostgreSQL
    backend for every such request under load. Requests beyond the limit wait their turn."""
    size = getattr(engine.pool, "size", None)
    return size() if callable(size) else DEFAULT_HANDLERS


@dataclass
class Call:
    """One request as a handler sees it: checked parameters and body, the user."""

    api: ApiState
    request: Request
    params: dict[str, Any]
    body: Any = None
    user: User | None = None

    @property
    def calipso(self) -> Calipso:
        return self.api.calipso

    @property
    def engine(self) -> Engine:
        """The database; for ``GET`` (which never writes) the engine without transactions
        (``Calipso.reader``)."""
        return self.api.calipso.reader if self.request.method == "GET" else self.api.calipso.engine

    @property
    def inventory(self) -> Inventory:
        return Inventory(self.engine)

    @property
    def limit(self) -> int:
        return self.params["page_size"]

    @property
    def offset(self) -> int:
        return self.params["page"] * self.params["page_size"]


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused (413) past ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, f"the body is larger than {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def run_operation(operation: Operation, call: Call) -> Any:
    """Check the values that need the database, then run the handler."""
    check_constants(call.engine, call.calipso.plugins, operation.params, call.params)
    return operation.handler(call)


def authorized_user(operation: Operation, api: ApiState, request: Request) -> User | None:
    """The user of the request's token, allowed to run ``operation`` (401/403 else);
    None for public operations."""
    if operation.public:
        return None
    user = auth.authenticate(api.users, request)
    auth.authorize(user, operation.writes, request)
    return user


def answer_without_body(operation: Operation, api: ApiState, request: Request) -> Any:
    """Authenticate, check the parameters and run the handler, in that order, all in one
    worker thread: one hand-over to the thread pool per request instead of two."""
    user = authorized_user(operation, api, request)
    params = parse_query(request.query_params, operation.params)
    call = Call(api, request, params, None, user)
    try:
        return run_operation(operation, call)
    except DBAPIError as error:
        if not (error.connection_invalidated and request.method == "GET"):
            raise
    # The database had cut the reader's connection (a restart): the pool has dropped
    # every connection opened before, so the read runs again on a new one.
    return run_operation(operation, call)


async def in_worker_thread(api: ApiState, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in one of the handler threads."""
    return await asyncio.get_running_loop().run_in_executor(api.handlers, functools.partial(function, *args))


class Endpoint:
    """The ASGI application that checks and runs one operation. Starlette routes to it
    as it is: a function endpoint would be wrapped, per request, in one more layer of
    exception handling than the application's own, which answers errors the same way."""

    def __init__(self, operation: Operation, api: ApiState):
        self.operation, self.api = operation, api
        self.__name__ = f"{operation.method.lower()}_{operation.tag}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive, send))
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        operation, api = self.operation, self.api
        schema = operation.body_schema
        if schema is None:
            result = await in_worker_thread(api, answer_without_body, operation, api, request)
        else:
            user = None if operation.public else await in_worker_thread(api, authorized_user, operation, api, request)
            params = parse_query(request.query_params, operation.params)
            body = parse_json(await read_body(request))
            validate_body(body, schema)
            result = await in_worker_thread(api, run_operation, operation, Call(api, request, params, body, user))
        if isinstance(result, Response):
            return result
        return CalipsoJSONResponse(result, status_code=operation.status)


def make_endpoint(operation: Operation, api: ApiState) -> Endpoint:
    """The Starlette endpoint that checks and runs ``operation``."""
    return Endpoint(operation, api)
