"""Shared helpers for the whole suite (the fixtures live in calipso_core.testing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def run_calipso(calipso, calipso_database_url, tmp_path):
    """Run the real ``calipso`` command against the (emptied) test database."""

    def run(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
        environ = {**os.environ, "CALIPSO_DATABASE_URL": calipso_database_url,
                   "CALIPSO_HOME": str(tmp_path / "home"), **(env or {})}
        # Not from the checkout: its root holds the editable installs' metadata of every
        # distribution, which would make plugins that are not installed look installed.
        return subprocess.run(
            [sys.executable, "-m", "calipso_core", *args],
            capture_output=True, text=True, env=environ, input=input, timeout=120, cwd=tmp_path,
        )

    return run


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The recorded upstream data beside the checkout."""
    if not SHARED.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return SHARED / "fixtures"


@pytest.fixture(scope="session")
def recorded_notification(shared_fixtures):
    """``load(name)``: a notification recorded from a real cloud (``upstream/notifications``)."""
    return lambda name: json.loads((shared_fixtures / "upstream" / "notifications" / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def versioned_notification(shared_fixtures):
    """``load(name)``: one of Nova's versioned notification samples."""
    return lambda name: json.loads((shared_fixtures / "nova_versioned" / f"{name}.json").read_text())
