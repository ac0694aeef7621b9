"""The Starlette application: every resource module's operations as routes, the error
handlers, and the OpenAPI document at ``/openapi.json``.

``create_app(calipso)`` serves a given context (tests, one uvicorn worker);
``app_factory()`` builds its own from the environment, for uvicorn's ``--factory`` with
several worker processes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.routing import Route

from calipso_core import __version__
from calipso_core.api.errors import EXCEPTION_HANDLERS
from calipso_core.api.openapi import build_document
from calipso_core.api.operation import ApiState, Call, Operation, handler_limit, handler_threads, make_endpoint
from calipso_core.api.routes import (
    aggregates,
    auth_tokens,
    clique_constraints,
    clique_types,
    cliques,
    connection_tests,
    constants,
    diff,
    environment_configs,
    graph,
    health,
    impact,
    inventory,
    links,
    messages,
    monitoring_config_templates,
    scans,
    scheduled_scans,
    search,
)
from calipso_core.context import Calipso
from calipso_core.users import DEFAULT_TOKEN_CACHE, DEFAULT_TOKEN_LIFETIME, Users

ROUTE_MODULES = (
    auth_tokens, inventory, links, cliques, clique_types, clique_constraints, scans, scheduled_scans, messages,
    constants, monitoring_config_templates, environment_configs, aggregates, connection_tests, search, graph,
    impact, diff, health,
)
#: Environment variables the factory reads the token lifetime and the seconds a
#: validated token is remembered from.
TOKEN_LIFETIME_VARIABLE = "CALIPSO_TOKEN_LIFETIME"
TOKEN_CACHE_VARIABLE = "CALIPSO_TOKEN_CACHE"


def resource_operations() -> list[Operation]:
    """The operations of every resource module, in module order."""
    return [operation for module in ROUTE_MODULES for operation in module.OPERATIONS]


def openapi_operation(document_holder: dict) -> Operation:
    def get_openapi(call: Call) -> dict:
        return document_holder["document"]

    return Operation("GET", "/openapi.json", get_openapi, "This OpenAPI document", public=True,
                     response={"type": "object", "required": ["openapi", "paths"]}, errors=())


def create_app(calipso: Calipso, token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
               lifespan=None, token_cache: float = DEFAULT_TOKEN_CACHE) -> Starlette:
    """The API over ``calipso`` (whose owner closes it); tokens last ``token_lifetime``
    and, once validated, are taken as valid for ``token_cache`` seconds without asking
    the database (a token revoked through this app stops working at once)."""
    users = Users(calipso.engine, token_lifetime, token_cache)
    api = ApiState(calipso, users, handler_threads(handler_limit(calipso.engine)))
    holder: dict = {}
    operations = [*resource_operations(), openapi_operation(holder)]
    holder["document"] = build_document(operations, __version__)
    routes = [Route(op.path, make_endpoint(op, api), methods=[op.method]) for op in operations]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.calipso = calipso
    app.state.users = users
    app.state.operations = operations
    return app


def app_factory() -> Starlette:
    """An app with its own context, from ``CALIPSO_DATABASE_URL`` (else the embedded
    database), ``CALIPSO_TOKEN_LIFETIME`` and ``CALIPSO_TOKEN_CACHE``; the plugins are
    loaded at startup (not by the first request, which would wait seconds for them) and
    the context is closed at shutdown."""
    calipso = Calipso()
    lifetime = timedelta(seconds=int(os.environ.get(TOKEN_LIFETIME_VARIABLE, DEFAULT_TOKEN_LIFETIME.total_seconds())))
    token_cache = float(os.environ.get(TOKEN_CACHE_VARIABLE, DEFAULT_TOKEN_CACHE))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        calipso.plugins.check_pending()
        yield
        calipso.close()

    return create_app(calipso, lifetime, lifespan, token_cache)
