"""``calipso serve``: uvicorn serving the API over loopback, in one process or with
worker processes built by the app factory."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import httpx
import pytest
from api_helpers import HTTP_TIMEOUT, PASSWORD, TOKEN, environment_doc, free_port

from calipso_core.cli import serve_cmd
from calipso_core.errors import ConfigError
from calipso_core.users import READ_WRITE, Users

START_DEADLINE = 90.0
# The command as the calipso entry point would run it (serve_cmd registered).
SCRIPT = """
import argparse, sys
from calipso_core.cli import serve_cmd
from calipso_core.context import Calipso
parser = argparse.ArgumentParser(prog="calipso")
serve_cmd.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
app = Calipso()
try:
    sys.exit(args.run(app, args))
finally:
    app.close()
"""


def parse(*argv: str):
    parser = argparse.ArgumentParser(prog="calipso")
    serve_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def wait_until_healthy(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"calipso serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"calipso serve did not answer on {url} within {START_DEADLINE} s")


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_over_loopback(calipso, calipso_database_url, tmp_path, workers):
    calipso.environments.save(environment_doc())
    Users(calipso.engine).add("admin", PASSWORD, READ_WRITE)
    port = free_port()
    env = {**os.environ, "CALIPSO_DATABASE_URL": calipso_database_url, "CALIPSO_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "serve", "--port", str(port), "--workers", str(workers),
         "--token-lifetime", "120"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_healthy(url, process)
        assert health["environments"]["lab-one"]["scanned"] is False
        credentials = {"auth": {"methods": ["credentials"],
                                "credentials": {"username": "admin", "password": PASSWORD}}}
        issued = httpx.post(f"{url}/auth/tokens", json=credentials, timeout=HTTP_TIMEOUT).json()
        lifetime = datetime.fromisoformat(issued["expires_at"]) - datetime.fromisoformat(issued["issued_at"])
        assert lifetime.total_seconds() == 120
        for _ in range(2 * workers):
            answer = httpx.get(f"{url}/inventory", params={"env_name": "lab-one"},
                               headers={TOKEN: issued["token"]}, timeout=HTTP_TIMEOUT)
            assert answer.json() == {"objects": []}
        assert httpx.get(f"{url}/inventory", params={"env_name": "lab-one"}, timeout=HTTP_TIMEOUT).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stderr.close()
    assert process.returncode == 0


@pytest.mark.parametrize("argv, words", [
    (("--workers", "0"), "--workers 0"),
    (("--port", "70000"), "--port 70000"),
    (("--token-lifetime", "0"), "--token-lifetime 0"),
    (("--token-cache", "-1"), "--token-cache -1"),
    (("--token-cache", "61"), "--token-cache 61"),
])
def test_serve_refuses_bad_arguments(calipso, argv, words):
    args = parse("serve", *argv)
    with pytest.raises(ConfigError, match=words):
        args.run(calipso, args)
