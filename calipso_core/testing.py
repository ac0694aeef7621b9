"""The test kit for Calipso and its plugins (a pytest plugin, loaded automatically).

Fixtures:

- ``calipso_database_url``: a throwaway PostgreSQL database for the test session: the
  server named by ``CALIPSO_TEST_DATABASE_URL``, or else an embedded one (pgserver) in a
  temporary directory, removed afterwards.
- ``calipso_engine``: an engine on it with the schema migrated to the newest revision.
- ``calipso``: a ``Calipso`` context over that database with every table emptied first.
- ``inventory``: the inventory repository of ``calipso``.
- ``restart_database``: a function that restarts that embedded server (every connection
  is cut), for tests of what survives a database restart.
- ``rabbitmq``: a private RabbitMQ node (``calipso_core.broker.RabbitBroker``) for the
  test session, on loopback ports of its own; stopped and removed afterwards.
- ``lab_environment``: start labs, each added as an environment (see its doc).

Helpers: ``lab_differences`` (what a scan got wrong), ``serve_app`` (an ASGI app served
over loopback HTTP for the length of a ``with``), ``wait_until`` (poll until something
holds, or a time is up).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from calipso_core import db
from calipso_core.context import Calipso
from calipso_core.store.tables import metadata

#: The data directory of each embedded test server, by URL.
_EMBEDDED_PGDATA: dict[str, Path] = {}


@pytest.fixture(scope="session")
def calipso_database_url() -> str:
    url = os.environ.get("CALIPSO_TEST_DATABASE_URL")
    if url:
        return url
    # The embedded server runs as its own user, which must reach the data directory.
    parent = Path(tempfile.mkdtemp(prefix="calipso-test-pg-"))
    parent.chmod(0o755)
    atexit.register(shutil.rmtree, parent, ignore_errors=True)  # runs after the server's own cleanup
    url = db.embedded_server_url(parent / "pgdata", database="calipso_test", cleanup="delete")
    _EMBEDDED_PGDATA[url] = parent / "pgdata"
    return url


@pytest.fixture
def restart_database(calipso_database_url):
    pgdata = _EMBEDDED_PGDATA.get(calipso_database_url)
    if pgdata is None:
        pytest.skip("the test database is a server of CALIPSO_TEST_DATABASE_URL, which tests do not restart")

    def restart() -> None:
        """Stop the server (fast: every session is cut) and start it again with the same
        options, waiting until it accepts connections."""
        import pgserver

        user = "pgserver" if os.geteuid() == 0 else None  # the embedded server's own user under root
        pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user, timeout=120)

    return restart


@pytest.fixture(scope="session")
def calipso_engine(calipso_database_url):
    engine = db.get_engine(calipso_database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def empty_tables(engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))


@pytest.fixture
def calipso(calipso_engine, calipso_database_url):
    empty_tables(calipso_engine)
    app = Calipso(calipso_database_url)
    app.engine = calipso_engine  # share the session's pool
    yield app


@pytest.fixture
def inventory(calipso):
    return calipso.inventory


@pytest.fixture(scope="session")
def rabbitmq():
    from calipso_core.broker import SERVER_SCRIPT, RabbitBroker

    if not SERVER_SCRIPT.exists():
        pytest.skip("rabbitmq-server is not installed")
    data = tempfile.mkdtemp(prefix="calipso-test-rabbitmq-")  # under /tmp: the broker's user must reach it
    try:
        with RabbitBroker(data) as broker:
            yield broker
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def lab_environment(calipso, tmp_path):
    """Start labs (``calipso_core.lab.serve.Lab``), each added as an environment of the
    ``calipso`` database; they are stopped at the end of the test. Call it with
    ``LabOptions`` fields: ``lab = lab_environment(seed=3, hosts=5)``. Labs here have no
    latency and announce nothing (no broker to start) unless asked."""
    from calipso_core.environments import validate
    from calipso_core.lab.serve import Lab, LabOptions
    from calipso_core.seed import seed_defaults

    labs = []

    def start(**options):
        options.setdefault("latency_ms", (0, 0))
        options.setdefault("notifications", False)
        lab = Lab(LabOptions(**options), calipso.plugins, tmp_path / f"lab{len(labs)}").start()
        labs.append(lab)
        doc = lab.environment()
        validate(doc, calipso.config_sections)
        calipso.environments.save(doc)
        seed_defaults(calipso.engine, calipso.plugins)
        return lab

    yield start
    for lab in labs:
        lab.stop()


def lab_differences(calipso, lab) -> list[dict]:
    """The rows of ``calipso lab verify`` that differ between the stored inventory and
    the lab's ground truth (empty when the scan found exactly the lab)."""
    from calipso_core.lab.truth import compare, stored_document

    types = list(calipso.plugins.records("calipso_clique_types").values())
    expected = lab.truth().as_document(lab.environment(), types)
    result = compare(expected, stored_document(calipso.inventory, calipso.engine, lab.options.env_name))
    return [row for row in result.rows if row["missing"] or row["unexpected"]]


@contextmanager
def serve_app(app, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its URL."""
    from calipso_core.lab.http import ThreadedServer

    with ThreadedServer(app, "calipso-test-server", start_timeout) as server:
        yield server.base_url


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, every: float = 0.05) -> bool:
    """Whether ``predicate()`` came true within ``timeout`` seconds (asked every ``every``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
