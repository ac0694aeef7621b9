"""Keeping the inventory live: a lab served by another process (``calipso lab serve``, no
latency) changes its cloud; Nova's and Neutron's notifications go through a private
RabbitMQ to a listener in this process, which applies them to PostgreSQL.

Figures, at 1,000 and at 20,000 instances (20 per host; Open vSwitch with vlan networks,
so that the first scan of the large lab is not spent on a mesh of 1,000 tunnel ends):
- sustained ingest: notifications applied per second while the lab changes as fast as it
  can (a backlog builds up, so batches fill), and from a backlog the lab made while no
  listener ran, by a listener started again (its start counted);
- publish→commit latency (p50, p99) with the lab sending about 300 notifications/s;
- cost per change (processing time / changes) at both sizes, and their ratio: in the burst,
  where a batch shares the work on a host among that host's changes (more of them in the
  small lab, which has fewer hosts), and for changes of instances and ports made two per
  second, each handled alone;
- whether the inventory still equals the lab's ground truth afterwards.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from calipso_core import db
from calipso_core.broker import RabbitBroker
from calipso_core.context import Calipso
from calipso_core.environments import config_section
from calipso_core.lab.control import LabClient
from calipso_core.lab.truth import compare, stored_document
from calipso_core.listener import EnvironmentListener, ListenOptions
from calipso_core.seed import seed_defaults

SIZES = ((50, 1_000), (1_000, 20_000))
BURST_CHANGES = 400
PACED_SECONDS = 20
PACED_CHANGES_PER_S = 61  # about 300 notifications/s (~4.9 per change)
SINGLE_CHANGES, SINGLE_CHANGES_PER_S = 40, 2  # far apart: each change handled on its own
SINGLE_KINDS = ["instance", "port"]
POLL, QUIET = 0.05, 0.5  # seconds: how often the listener's progress is looked at; idle time before asking the broker
SCAN = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from calipso_core.context import Calipso
from calipso_core.scan.controller import Scan
app = Calipso(sys.argv[1])
started = time.perf_counter()
summary = Scan(app, sys.argv[2], concurrency=32).run()
print(json.dumps({"seconds": time.perf_counter() - started, "status": summary.status}))
"""


def start_lab(hosts: int, instances: int, workdir: Path, amqp_url: str) -> tuple[subprocess.Popen, dict]:
    config = workdir / f"lab-{hosts}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "calipso_core", "lab", "serve", "--hosts", str(hosts), "--instances", str(instances),
         "--type-driver", "vlan", "--latency-ms", "0", "--amqp-url", amqp_url, "--name", f"bench-listen-{hosts}",
         "--config-out", str(config), "--workdir", str(workdir / f"lab-{hosts}")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not config.exists() or not config.read_text().strip().endswith("}"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the lab of {hosts} hosts did not start")
        time.sleep(0.2)
    return process, json.loads(config.read_text())


def scan(url: str, env: str) -> float:
    result = subprocess.run([sys.executable, "-c", SCAN, url, env], capture_output=True, text=True, timeout=7200,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if result.returncode:
        raise RuntimeError(f"scan of {env} failed: {result.stderr[-2000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["status"] != "completed":
        raise RuntimeError(f"scan of {env}: {report['status']}")
    return report["seconds"]


def wait_applied(broker: RabbitBroker, env: str, processor, timeout: float = 3600) -> float:
    """Wait until the listener has applied every queued notification; return when (on the
    ``perf_counter`` clock) its last batch ended. The broker is asked (``rabbitmqctl``,
    about half a second of CPU each time, which a busy listener would have to share) only
    once the listener has been idle for ``QUIET`` seconds."""
    deadline = time.monotonic() + timeout
    batches, last_end, asked = processor.stats["batches"], time.perf_counter(), 0.0
    while True:
        time.sleep(POLL)
        now = time.perf_counter()
        if processor.stats["batches"] != batches or processor.lock.locked():
            batches, last_end = processor.stats["batches"], now
        elif now - max(last_end, asked) >= QUIET:
            if broker.pools_drained(env):
                return last_end
            asked = time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the listener of {env} did not catch up within {timeout:.0f} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def measure(db_url: str, broker: RabbitBroker, hosts: int, instances: int, workdir: Path) -> dict:
    process, doc = start_lab(hosts, instances, workdir, broker.url)
    app = Calipso(db_url)
    try:
        db.upgrade(app.engine)
        seed_defaults(app.engine, app.plugins)
        app.environments.save(doc, replace=True)
        env, client = doc["name"], LabClient(config_section(doc, "Lab"))
        scan_seconds = scan(db_url, env)
        with EnvironmentListener(app, env, ListenOptions()) as listener:
            processor = listener.processor
            stats = processor.stats
            started = time.perf_counter()
            client.churn(BURST_CHANGES, seed=1)
            burst = wait_applied(broker, env, processor) - started
            burst_notes, burst_seconds = stats["notifications"], stats["seconds"]
            processor.latencies.clear()
            before, started = stats["notifications"], time.perf_counter()
            client.churn(PACED_SECONDS * PACED_CHANGES_PER_S, seed=2, rate=PACED_CHANGES_PER_S)
            paced = wait_applied(broker, env, processor) - started
            latencies = list(processor.latencies)
            paced_rate = (stats["notifications"] - before) / paced
            before = stats["seconds"]
            client.churn(SINGLE_CHANGES, seed=3, rate=SINGLE_CHANGES_PER_S, only=SINGLE_KINDS)
            wait_applied(broker, env, processor)
            single_seconds = stats["seconds"] - before
        client.churn(BURST_CHANGES, seed=4)  # while no listener runs: its queues keep what comes
        started = time.perf_counter()
        with EnvironmentListener(app, env, ListenOptions()) as listener:  # a listener started again
            backlog = wait_applied(broker, env, listener.processor) - started
            backlog_notes = listener.processor.stats["notifications"]
        result = compare(client.truth(), stored_document(app.inventory, app.engine, env))
        return {"hosts": hosts, "instances": instances, "scan_s": scan_seconds, "backlog_rate": backlog_notes / backlog,
                "burst_rate": burst_notes / burst,
                "per_change_ms": 1000 * burst_seconds / BURST_CHANGES,
                "per_note_ms": 1000 * burst_seconds / burst_notes,
                "single_change_ms": 1000 * single_seconds / SINGLE_CHANGES,
                "paced_rate": paced_rate, "p50": statistics.median(latencies) if latencies else float("nan"),
                "p99": percentile(latencies, 0.99), "differences": result.differences}
    finally:
        app.close()
        process.terminate()
        process.wait(120)


def run(db_url: str) -> Iterator[str]:
    """One line per lab size as soon as it is measured, then the ratio of their costs."""
    results = []
    with tempfile.TemporaryDirectory(prefix="calipso-bench-listen-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # the broker runs as its own user
        with RabbitBroker(workdir / "rabbitmq") as broker:
            for hosts, instances in SIZES:
                r = measure(db_url, broker, hosts, instances, workdir)
                results.append(r)
                yield (f"{r['instances']:,} instances / {r['hosts']:,} hosts (scan {r['scan_s']:.0f} s): "
                       f"ingest {r['burst_rate']:.0f} notifications/s ({BURST_CHANGES} changes at once), "
                       f"{r['backlog_rate']:.0f}/s (a backlog of {BURST_CHANGES} changes), "
                       f"{r['per_change_ms']:.1f} ms per change ({r['per_note_ms']:.2f} ms per notification), "
                       f"{r['single_change_ms']:.1f} ms per instance or port change handled alone; "
                       f"at {r['paced_rate']:.0f}/s publish→commit p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s; "
                       f"differences from the lab's truth: {r['differences']}")
    small, large = results
    yield (f"cost per change at {large['instances']:,} vs {small['instances']:,} instances: "
           f"{large['per_change_ms'] / small['per_change_ms']:.2f}x in the burst, "
           f"{large['single_change_ms'] / small['single_change_ms']:.2f}x handled alone")
