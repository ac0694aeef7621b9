"""Fixtures for the API tests: a Calipso context with only the core plugin and a small
test plugin (one monitoring check), the seeded constants, one environment, users of
both roles with their tokens, and a test client over the real database."""

from __future__ import annotations

import api_helpers
import httpx
import pytest
from api_helpers import HTTP_TIMEOUT, PASSWORD, TOKEN, environment_doc, serve, token_for

from calipso_core.api import create_app
from calipso_core.context import Calipso
from calipso_core.plugins import PluginInfo, get_plugin_manager
from calipso_core.seed import seed_defaults
from calipso_core.users import READ_ONLY, READ_WRITE, Users


@pytest.fixture(scope="session")
def api_context(calipso_engine, calipso_database_url):
    """One context for the session's server; each test empties its tables (``api_calipso``)."""
    plugins = get_plugin_manager(load_entry_points=False)
    plugins.register_plugin(api_helpers, PluginInfo("apitest", "tests", "0", "api_helpers"))
    context = Calipso(calipso_database_url, plugins=plugins)
    context.engine = calipso_engine
    return context


@pytest.fixture(scope="session")
def api_url(api_context):
    """The API served by uvicorn on a loopback port for the whole session."""
    with serve(create_app(api_context)) as url:
        yield url


@pytest.fixture
def api_calipso(calipso, api_context):
    """The session's context over emptied tables, seeded, with the environment ``ENV``."""
    seed_defaults(api_context.engine, api_context.plugins)
    api_context.environments.save(environment_doc())
    return api_context


@pytest.fixture
def users(api_calipso):
    users = Users(api_calipso.engine)
    users.add("admin", PASSWORD, READ_WRITE)
    users.add("viewer", PASSWORD, READ_ONLY)
    return users


@pytest.fixture
def anonymous(api_url, api_calipso):
    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT) as client:
        yield client


@pytest.fixture
def client(api_url, users):
    """A client whose requests carry a read-write token."""
    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT, headers={TOKEN: token_for(users, "admin")}) as c:
        yield c


@pytest.fixture
def viewer(api_url, users):
    """A client whose requests carry a read-only token."""
    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT, headers={TOKEN: token_for(users, "viewer")}) as c:
        yield c
