"""Starting a lab of 1,000 hosts and 20,000 instances (OVS, vxlan, ACI) with
``calipso lab serve``: time until its environment document is written, and its memory.

Targets: up within 30 s, under 2 GB RSS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOSTS, INSTANCES = 1000, 20000


def memory_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run(url: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="calipso-bench-lab-") as tmp:
        config = Path(tmp) / "lab.json"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "calipso_core", "lab", "serve", "--hosts", str(HOSTS), "--instances",
             str(INSTANCES), "--aci", "--latency-ms", "0", "--config-out", str(config), "--workdir", f"{tmp}/lab"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "CALIPSO_DATABASE_URL": url})
        try:
            while not (config.exists() and config.read_text().endswith("}")):
                if process.poll() is not None or time.perf_counter() - started > 600:
                    raise RuntimeError("the lab did not start")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            doc = json.loads(config.read_text())
            rss, peak = memory_mb(process.pid)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(120)
    sections = ", ".join(s["name"] for s in doc["configuration"])
    return [
        f"lab of {HOSTS:,} hosts / {INSTANCES:,} instances (OVS, vxlan, ACI) up in {seconds:.1f} s "
        f"(target <= 30 s); serving {sections}",
        f"lab memory: {rss:,.0f} MB resident, {peak:,.0f} MB peak (target < 2,048 MB)",
    ]
