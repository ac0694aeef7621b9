"""The ``calipso lab`` commands: serve until stopped, truth, verify (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.scan.controller import Scan
from calipso_core.seed import seed_defaults


def test_serve_writes_a_usable_environment_and_stops_on_sigterm(run_calipso, calipso_database_url, tmp_path):
    config = tmp_path / "lab.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "calipso_core", "lab", "serve", "--seed", "9", "--hosts", "4", "--instances", "6",
         "--latency-ms", "0", "--config-out", str(config), "--workdir", str(tmp_path / "lab")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "CALIPSO_DATABASE_URL": calipso_database_url})
    try:
        deadline = time.monotonic() + 120
        while not (config.exists() and config.read_text().endswith("}")):
            assert process.poll() is None, "the lab exited early"
            assert time.monotonic() < deadline, "the lab did not start"
            time.sleep(0.1)
        doc = json.loads(config.read_text())
        assert doc["name"] == "lab-9"
        assert {s["name"] for s in doc["configuration"]} >= {"CLI", "OpenStack", "AMQP", "Lab"}
        assert oct(config.stat().st_mode & 0o777) == "0o600"  # it holds the lab's passwords

        truth = run_calipso("lab", "truth", "--config", str(config), "--format", "json")
        assert truth.returncode == 0, truth.stderr
        objects = json.loads(truth.stdout)["objects"]
        assert sum(o["type"] == "instance" for o in objects) == 6
        assert sum(o["type"] == "host" for o in objects) == 4
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and "stopping the lab" in stderr
    result = run_calipso("lab", "truth", "--config", str(config))
    assert result.returncode == 1 and "does not answer" in result.stderr


def test_churn_changes_only_the_collections_asked_for(calipso, run_calipso, tmp_path):
    lab = Lab(LabOptions(seed=12, hosts=4, instances=6, latency_ms=(0, 0), notifications=False),
              calipso.plugins, tmp_path / "lab").start()
    config = tmp_path / "lab.json"
    config.write_text(json.dumps(lab.environment()))
    try:
        ports = len(lab.model.ports)
        result = run_calipso("lab", "churn", "--config", str(config), "--changes", "6", "--seed", "1",
                             "--only", "port")
        assert result.returncode == 0, result.stderr
        kinds = result.stdout.split(": ", 1)[1].split(", ")
        assert result.stdout.startswith("6 changes: ") and all(k.split()[1].startswith("port.") for k in kinds)
        assert len(lab.model.ports) != ports and len(lab.model.instances) == 6
        result = run_calipso("lab", "churn", "--config", str(config), "--changes", "1", "--only", "port,disk")
        assert result.returncode == 1 and "answered 400" in result.stderr
        assert "no mutation changes disk" in result.stderr
    finally:
        lab.stop()


@pytest.fixture
def scanned(calipso, tmp_path):
    lab = Lab(LabOptions(seed=11, hosts=4, instances=6, latency_ms=(0, 0), notifications=False),
              calipso.plugins, tmp_path / "lab").start()
    calipso.environments.save(lab.environment())
    seed_defaults(calipso.engine, calipso.plugins)
    assert Scan(calipso, "lab-11").run().status == "completed"
    yield lab
    lab.stop()


def test_verify_reports_a_missing_and_an_unexpected_object(calipso, scanned, run_calipso):
    clean = run_calipso("lab", "verify", "lab-11")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "lab-11 against its lab: 0 differences" in clean.stdout

    instance = next(iter(scanned.model.instances))
    calipso.inventory.delete_objects("lab-11", [instance])
    intruder = {**calipso.inventory.get("lab-11", next(iter(scanned.model.hosts))), "id": "ghost-host", "name": "ghost"}
    intruder["id_path"] = intruder["id_path"].rsplit("/", 1)[0] + "/ghost-host"
    intruder["name_path"] = intruder["name_path"].rsplit("/", 1)[0] + "/ghost"
    vnic = calipso.inventory.find("lab-11", {"type": "vnic"}, limit=1)[0]
    calipso.inventory.upsert_objects("lab-11", [intruder, {**vnic, "name_path": vnic["name_path"] + "x"}])

    result = run_calipso("lab", "verify", "lab-11")
    assert result.returncode == 1
    assert f"objects instance: missing ('{instance}'" in result.stdout
    assert "objects host: unexpected ('ghost-host'" in result.stdout
    assert f"name paths vnic: {vnic['id']}: '{vnic['name_path']}x'" in " ".join(result.stdout.split())  # wrapped
    assert "name paths host" not in result.stdout
