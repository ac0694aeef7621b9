"""Scanning a lab served by another process (``calipso lab serve``), 10 ms per command and
API call: concurrent against ``--concurrency 1``, and the lab doubled. Each lab is first
scanned into three empty inventories (three environments of the same lab; the hosts'
keys are known after the first), then rescanned: the rescans compared are alike, each
over the inventory the one before left. Every kind of scan is run three times, in rounds,
and the fastest of each kind is compared, as timeit does: on this shared machine the same
7 s rescan took 6.7 to 8.4 s in one run (and 6.0 to 7.7 s of CPU), and interference only
ever adds time.

Targets: at least 10x faster than ``--concurrency 1`` at 200 hosts / 4,000 instances;
400 hosts / 8,000 instances at most 2.3x the time of 200 / 4,000; scan peak RSS < 1 GB.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from calipso_core import db
from calipso_core.context import Calipso
from calipso_core.seed import seed_defaults

LATENCY = "10-10"
#: The concurrency of the scans compared with --concurrency 1: the one at which the 200
#: hosts rescanned fastest here, rescans alternating (fastest / median of three): 16 left
#: the hosts' command latency showing (8.5 / 8.6 s), 32 gave 6.7 / 6.9 s, 64 6.3 / 6.5 s
#: and 128 6.6 / 6.7 s.
CONCURRENCY = 64
ROUNDS = 3  # scans of each kind, the fastest compared
LABS = ((200, 4000), (400, 8000))  # hosts, instances
SCAN = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from calipso_core.context import Calipso
from calipso_core.scan.controller import Scan
app = Calipso(sys.argv[1])
started = time.perf_counter()
summary = Scan(app, sys.argv[2], concurrency=int(sys.argv[3])).run()
cpu = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "status": summary.status,
                  "cpu": cpu.ru_utime + cpu.ru_stime,
                  "objects": sum(summary.objects.values()), "links": sum(summary.links.values()),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def start_lab(hosts: int, instances: int, workdir: Path) -> tuple[subprocess.Popen, dict]:
    config = workdir / f"lab-{hosts}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "calipso_core", "lab", "serve", "--hosts", str(hosts), "--instances", str(instances),
         "--latency-ms", LATENCY, "--no-notifications", "--name", f"bench-{hosts}", "--config-out", str(config),
         "--workdir", str(workdir / f"lab-{hosts}")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not config.exists() or not config.read_text().strip().endswith("}"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the lab of {hosts} hosts did not start")
        time.sleep(0.2)
    return process, json.loads(config.read_text())


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(url: str, env: str, concurrency: int) -> dict:
    result = subprocess.run([sys.executable, "-c", SCAN, url, env, str(concurrency)], capture_output=True,
                            text=True, timeout=3600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if result.returncode:
        raise RuntimeError(f"scan of {env} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def env_name(lab_doc: dict, number: int) -> str:
    """The name of the lab's environment ``number`` (0: the lab's own)."""
    return f"{lab_doc['name']}-{number}" if number else lab_doc["name"]


def run(url: str) -> list[str]:
    app = Calipso(url)
    db.upgrade(app.engine)
    seed_defaults(app.engine, app.plugins)
    lines, seconds = [], defaultdict(list)
    # Rounds of each kind of scan compared (both labs' first scans, then the three kinds of
    # rescan), so that a slow spell of the machine falls on every kind alike, not on one.
    order = [(hosts, CONCURRENCY, "first scan", number) for number in range(ROUNDS) for hosts, _ in LABS] + [
        (hosts, concurrency, "rescan", 0) for _ in range(ROUNDS)
        for hosts, concurrency in ((200, CONCURRENCY), (400, CONCURRENCY), (200, 1))]
    with tempfile.TemporaryDirectory(prefix="calipso-bench-scan-") as tmp:
        labs: dict[int, tuple[subprocess.Popen, dict]] = {}
        try:
            for hosts, instances in LABS:
                labs[hosts] = start_lab(hosts, instances, Path(tmp))
                doc = labs[hosts][1]
                for number in range(ROUNDS):
                    app.environments.save({**doc, "name": env_name(doc, number)}, replace=True)
            for hosts, concurrency, kind, number in order:
                lab, doc = labs[hosts]
                load, lab_cpu = os.getloadavg()[0], cpu_seconds(lab.pid)
                figures = scan(url, env_name(doc, number), concurrency)
                lab_cpu = cpu_seconds(lab.pid) - lab_cpu
                seconds[(hosts, concurrency, kind)].append(figures["seconds"])
                lines.append(f"{hosts} hosts / {dict(LABS)[hosts]:,} instances, {kind}, "
                             f"concurrency {concurrency:>2}: "
                             f"{figures['seconds']:6.1f} s, {figures['objects']:,} objects, "
                             f"{figures['links']:,} links, {figures['status']}, "
                             f"peak RSS {figures['rss_mb']:.0f} MB; CPU: scan {figures['cpu']:.1f} s, "
                             f"lab {lab_cpu:.1f} s; load average {load:.1f}")
        finally:
            for lab, _ in labs.values():
                os.killpg(lab.pid, signal.SIGTERM)
                lab.wait(60)
    app.close()
    rescans, firsts = ({hosts: min(seconds[(hosts, CONCURRENCY, kind)]) for hosts in (200, 400)}
                       for kind in ("rescan", "first scan"))
    alone = min(seconds[(200, 1, "rescan")])
    lines.append(f"speed-up of concurrency {CONCURRENCY} over 1 at 200 hosts (fastest rescans, {alone:.1f} s and "
                 f"{rescans[200]:.1f} s): {alone / rescans[200]:.1f}x (target >= 10x)")
    lines.append(f"400 hosts / 200 hosts: {rescans[400] / rescans[200]:.2f}x rescans, "
                 f"{firsts[400] / firsts[200]:.2f}x first scans (the fastest of each; target <= 2.3x)")
    return lines
