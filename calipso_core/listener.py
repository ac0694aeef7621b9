"""``calipso listen``: keep one environment's inventory live from its notifications.

The environment's ``AMQP`` section says where the bus is. Calipso reads, in its own pool
per environment (so it takes nobody else's copy), the legacy notifications of the
configured exchanges (``nova``, ``neutron``; topic ``notifications``) and Nova's versioned
ones (topic ``versioned_notifications``). Each pool is read by a batch listener with one
worker, so batches come in the order they were sent; an ``EventProcessor`` applies each
batch in one transaction and the batch is acknowledged only after it committed.

``declare_queues(env)`` creates the pools' queues without consuming: a scan calls it
first, so what the cloud announces while the scan runs waits in the queues and is
applied after it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from calipso_core.environments import config_section
from calipso_core.errors import ConfigError
from calipso_core.process import release_free_memory, resident_mb
from calipso_core.types import Document

log = logging.getLogger(__name__)
VERSIONED_EXCHANGE = "nova"
#: The exit status of ``calipso listen`` that stopped after ``max_notifications``
#: (EX_TEMPFAIL): the manager starts it again at once.
EXIT_START_AGAIN = 75
#: Seconds between two hand-backs of freed memory (between batches, after one was applied).
TRIM_EVERY = 10.0


@dataclass(frozen=True)
class ListenOptions:
    """How a listener reads: batch size and wait, whether Nova's versioned topic is read,
    how often a reconciliation scan repairs what events missed and how often ``listen``
    logs what it applied (seconds; 0: never), and after how many notifications ``listen``
    stops, for the manager to start it again (0: never): a long run leaves the memory
    allocators' pages sparsely used (here about 0.5 MB more per 1,000 notifications), a
    listener started again begins afresh, and it loses nothing (what it had not
    acknowledged comes again)."""

    batch_size: int = 1000  # a backlog is taken in large batches: a host rescanned once for many events
    batch_timeout: float = 0.05  # a batch does not wait long to fill: a quiet cloud's events apply at once
    versioned: bool = True
    reconcile_every: float = 0.0
    report_every: float = 60.0
    max_notifications: int = 0


def bus_settings_of(env: Document) -> list:
    """The ``BusSettings`` of each topic Calipso reads for ``env`` (none without AMQP)."""
    from calipso_core import messaging

    section = config_section(env, "AMQP")
    if section is None:
        return []
    legacy = messaging.bus_settings(section)
    settings = [legacy]
    if VERSIONED_EXCHANGE in legacy.exchanges and legacy.topic != messaging.VERSIONED_TOPIC:
        settings.append(replace(legacy, topic=messaging.VERSIONED_TOPIC, exchanges=(VERSIONED_EXCHANGE,)))
    return settings


def declare_queues(env: Document) -> list[str]:
    """Declare the pool queues of an environment that listens (``listen: true`` and an
    AMQP section), so notifications sent from now on wait for its listener; returns the
    queue names (none for an environment that does not listen). Raises ``MessagingError``."""
    if not env.get("listen"):
        return []
    from calipso_core.messaging import declare_pool_queues

    return [declare_pool_queues(settings, env["name"]) for settings in bus_settings_of(env)]


class EnvironmentListener:
    """The pools of one environment, feeding one ``EventProcessor``."""

    def __init__(self, app, env_name: str, options: ListenOptions = ListenOptions(),
                 processor: Callable | None = None):
        from calipso_core.events.processor import EventProcessor, record_rejection
        from calipso_core.messaging import NotificationListener

        self.app, self.env_name, self.options = app, env_name, options
        env = app.environments.get(env_name)
        settings = bus_settings_of(env)
        if not settings:
            raise ConfigError(f"environment {env_name!r} has no AMQP section: there is nothing to listen to")
        if not options.versioned:
            settings = settings[:1]
        self.processor = processor or EventProcessor(app, env_name)
        self.listeners = [
            NotificationListener(s, env_name, self.processor, batch_size=options.batch_size,
                                 batch_timeout=options.batch_timeout,
                                 on_rejected=lambda note, error: record_rejection(app, env_name, note, error))
            for s in settings]

    @property
    def queues(self) -> list[str]:
        return [listener.pool for listener in self.listeners]

    def start(self) -> EnvironmentListener:
        started = []
        try:
            for listener in self.listeners:
                started.append(listener.start())
        except BaseException:
            for listener in started:
                listener.stop()
            raise
        log.info("listening for %s on %s", self.env_name, ", ".join(self.queues))
        return self

    def stop(self) -> None:
        """Stop consuming, finish (and acknowledge) the batches already received."""
        for listener in self.listeners:
            listener.stop()
        close = getattr(self.processor, "close", None)
        if close:
            close()

    def __enter__(self) -> EnvironmentListener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Every:
    """A time that comes back every ``seconds`` (never when ``seconds`` is not positive)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds if seconds > 0 else math.inf

    def left(self) -> float:
        return self.at - time.monotonic()

    def due(self) -> bool:
        if time.monotonic() < self.at:
            return False
        self.at = time.monotonic() + self.seconds
        return True


def listen(app, env_name: str, stop: threading.Event, options: ListenOptions = ListenOptions(),
           on_reconciled: Callable | None = None) -> Counter:
    """Listen until ``stop`` is set or, with ``options.max_notifications``, until that
    many were applied. Reconcile every ``options.reconcile_every`` seconds, log what was
    applied every ``options.report_every`` seconds (when anything was), and give the
    system back what the batches freed every ``TRIM_EVERY`` seconds. Returns the
    processor's counts (notifications, batches, rejected, stale...)."""
    from calipso_core.events.reconcile import reconcile

    with EnvironmentListener(app, env_name, options) as listener:
        processor = listener.processor
        repair, report, trim = _Every(options.reconcile_every), _Every(options.report_every), _Every(TRIM_EVERY)
        reported, trimmed = (time.monotonic(), Counter(processor.stats)), 0
        while not stop.wait(max(0.05, min(1.0, repair.left(), report.left()))):
            if repair.due():
                with processor.lock:
                    repaired = reconcile(app, env_name)
                if on_reconciled:
                    on_reconciled(repaired)
            if report.due():
                reported = _report(env_name, processor, *reported)
            if trim.due():
                trimmed = _give_back_memory(processor, trimmed)
            if 0 < options.max_notifications <= processor.stats["notifications"]:
                log.info("%s: %d notifications applied (--max-notifications %d): it stops, to be started again",
                         env_name, processor.stats["notifications"], options.max_notifications)
                break
    return processor.stats


def _give_back_memory(processor, batches_then: int) -> int:
    """Between two batches, when any was applied since there were ``batches_then``: give the
    system back the free pages of the C allocator. Returns the batches counted now."""
    batches = processor.stats["batches"]
    if batches == batches_then or not processor.lock.acquire(blocking=False):
        return batches_then
    try:
        release_free_memory()
    finally:
        processor.lock.release()
    return batches


def _report(env_name: str, processor, since: float, before: Counter) -> tuple[float, Counter]:
    """Log what ``processor`` applied since the time ``since`` (when its counts were
    ``before``); returns the time and counts to report from next."""
    now, counts = time.monotonic(), Counter(processor.stats)
    applied = counts - before
    if applied["notifications"]:
        timed = sorted(list(processor.latencies)[-applied["timed"]:]) if applied["timed"] else []
        latency = (f"; publish→commit p50 {timed[len(timed) // 2]:.2f} s, p99 {timed[int(0.99 * len(timed))]:.2f} s"
                   if timed else "")
        resident = resident_mb()
        memory = f"; {resident:.0f} MB in memory" if resident is not None else ""
        log.info("%s: %d notifications applied in %d batches in the last %.1f s (%d rejected, %d stale)%s%s",
                 env_name, applied["notifications"], applied["batches"], now - since, applied["rejected"],
                 applied["stale"], latency, memory)
    return now, counts
