"""Helpers for the API tests: serving an app over loopback HTTP, a valid environment
document, checking error bodies; and, as a plugin, one monitoring check."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from calipso_core import hookimpl
from calipso_core.types import MonitoringCheck

ENV = "lab-one"
TOKEN = "X-Auth-Token"
PASSWORD = "correct horse battery"
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, name="calipso-api-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test API server did not start on port {port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


def environment_doc(name: str = ENV, **fields) -> dict:
    """A valid environment with a CLI section holding a password."""
    return {
        "name": name, "distribution": "Calipso-lab", "distribution_version": "1", "mechanism_drivers": ["OVS"],
        "type_drivers": "vxlan", "listen": False,
        "configuration": [{"name": "CLI", "host": "127.0.0.1", "user": "calipso", "pwd": "s3cret-cli"}],
        **fields,
    }


def assert_error(response, status: int, *words: str) -> dict:
    """The response is the API's error body with ``status``, its message naming ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == status
    assert error["title"]
    for word in words:
        assert word in error["message"], error["message"]
    return error


@hookimpl
def calipso_monitoring_checks():
    return [MonitoringCheck(name="vedge_ovs", object_type="vedge", command="check_vedge_ovs.py",
                            condition={"mechanism_drivers": ["OVS"]}, description="OVS daemons run")]
