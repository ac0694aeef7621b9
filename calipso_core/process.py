"""What this process holds in memory, and giving back to the system what it freed.

A long-running process that reads thousands of documents per batch frees most of them
again, but the C allocator keeps the pages it got (glibc hands them back only from the
top of its heaps); ``malloc_trim`` returns every whole free page. Both answer ``None``
where they cannot be done (not Linux, not glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import cache

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


def resident_mb() -> float | None:
    """The resident set size of this process, in MB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool | None:
    """Give the system back the free pages of the C allocator's heaps; whether any were
    (``None``: this C library cannot)."""
    trim = _malloc_trim()
    return None if trim is None else bool(trim(0))
