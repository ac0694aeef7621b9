"""The environment's sources (APIs, hosts) as a listener uses them.

A scan builds its clients and reads each collection once; a listener lives for days, so
``LiveSources`` keeps the clients (API sessions, kept-open SSH connections) across batches
and forgets the data at the start of each batch, except what a handler asked to keep
(``keep``): data that only changes with an event the listener sees (a region's networks)
stays until a handler of such an event calls ``forget``, or until its time is up.
``scope()`` gives a handler a context of its own (its own data, the same clients) that it
may pre-fill with just the part of a collection it needs (the servers of one host).
The thread pools that rescans fetch with are kept too (``pools``), as is one for work
done per host at the same time (``hosts_pool``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from calipso_core.scan.context import ScanContext
from calipso_core.scan.engine import source_pools


class LiveSources(ScanContext):
    """Clients kept for the listener's life; data kept for one batch (or until forgotten)."""

    def __init__(self, environment, inventory, settings: dict | None = None):
        super().__init__(environment, inventory, settings)
        self._kept: dict[Hashable, tuple[float, Any]] = {}  # key -> (expiry, value)
        self._kept_lock = threading.Lock()
        self._pools: dict[str, ThreadPoolExecutor] | None = None
        self._hosts_pool: ThreadPoolExecutor | None = None

    def pools(self) -> dict[str, ThreadPoolExecutor]:
        """The fetchers' thread pools, one per kind of source, kept for the listener's life."""
        with self._kept_lock:
            if self._pools is None:
                self._pools = source_pools(self.settings.get("concurrency", 4))
            return self._pools

    def hosts_pool(self) -> ThreadPoolExecutor:
        """A thread pool for work on several hosts at once (rescanning them)."""
        with self._kept_lock:
            if self._hosts_pool is None:
                self._hosts_pool = ThreadPoolExecutor(self.settings.get("concurrency", 4),
                                                      thread_name_prefix="live-hosts")
            return self._hosts_pool

    def close(self) -> None:
        for pool in [*(self._pools or {}).values(), self._hosts_pool]:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pools = self._hosts_pool = None
        super().close()

    def new_batch(self) -> None:
        """Forget everything read so far, and clients that could not be built (they are
        tried again); keep the working clients."""
        self.forget_data()

    def keep(self, key: Hashable, loader: Callable[[], Any], ttl: float = 300.0) -> Any:
        """The value of ``key``, loaded once and kept across batches for at most ``ttl``
        seconds or until ``forget``. A loader's error is not kept."""
        now = time.monotonic()
        with self._kept_lock:
            found = self._kept.get(key)
            if found is not None and found[0] > now:
                return found[1]
        value = loader()
        with self._kept_lock:
            self._kept[key] = (now + ttl, value)
        return value

    def forget(self, match: Callable[[Hashable], bool] = lambda key: True) -> None:
        """Drop the kept values whose key ``match`` accepts (all by default)."""
        with self._kept_lock:
            for key in [k for k in self._kept if match(k)]:
                del self._kept[key]

    def scope(self) -> ScopedSources:
        """A context with empty data that uses this one's clients."""
        return ScopedSources(self)


class ScopedSources(ScanContext):
    """Data of its own (pre-filled with ``seed``), clients of its parent."""

    def __init__(self, parent: LiveSources):
        super().__init__(parent.environment, parent.inventory, parent.settings)
        self.parent = parent
        self._seeds: dict[Any, Callable[[], Any]] = {}

    def client(self, name: str, factory: Callable[[ScanContext], Any]) -> Any:
        return self.parent.client(name, factory)

    def pools(self) -> dict[str, ThreadPoolExecutor]:
        return self.parent.pools()

    def seed(self, key: Any, loader: Callable[[], Any]) -> None:
        """Decide what ``key`` holds before any fetcher asks for it (loaded when first asked)."""
        self._seeds[key] = loader

    def cached(self, key: Any, loader: Callable[[], Any]) -> Any:
        return super().cached(key, self._seeds.get(key, loader))

    def from_parent(self, key: Any, loader: Callable[[], Any], ttl: float = 300.0) -> None:
        """Share one value with the parent, kept across batches (see ``LiveSources.keep``)."""
        parent = self.parent  # not ``self``: a seed that held this context would make a cycle
        self.seed(key, lambda: parent.keep(key, loader, ttl))
