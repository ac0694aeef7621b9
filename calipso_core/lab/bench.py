"""Measuring how long a lab model takes to generate and how much memory it holds.

``measure_generation`` is what the benchmark script calls; run it in a fresh process
for a clean peak RSS.
"""

from __future__ import annotations

import gc
import resource
import time
from pathlib import Path
from typing import Any

from calipso_core.lab.generate import generate_lab
from calipso_core.lab.model import LabSpec


def rss_mb() -> float:
    """The process's resident set size now, in MiB (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def measure_generation(hosts: int = 1000, instances: int = 20000, mechanism_driver: str = "OVS",
                       type_driver: str = "vxlan", aci: bool = True, seed: int = 1) -> dict[str, Any]:
    """Generate one lab; return the seconds taken, RSS before and after, the peak RSS of
    the process and the object counts."""
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    model = generate_lab(LabSpec(seed=seed, hosts=hosts, instances=instances, mechanism_driver=mechanism_driver,
                                 type_driver=type_driver, aci=aci))
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": model.counts(),
    }
