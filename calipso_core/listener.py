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
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from calipso_core.environments import config_section
from calipso_core.errors import ConfigError
from calipso_core.types import Document

log = logging.getLogger(__name__)
VERSIONED_EXCHANGE = "nova"


@dataclass(frozen=True)
class ListenOptions:
    """How a listener reads: batch size and wait, whether Nova's versioned topic is read,
    and how often a reconciliation scan repairs what events missed (0: never)."""

    batch_size: int = 1000  # a backlog is taken in large batches: a host rescanned once for many events
    batch_timeout: float = 0.05  # a batch does not wait long to fill: a quiet cloud's events apply at once
    versioned: bool = True
    reconcile_every: float = 0.0


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


def listen(app, env_name: str, stop: threading.Event, options: ListenOptions = ListenOptions(),
           on_reconciled: Callable | None = None) -> Counter:
    """Listen until ``stop`` is set; reconcile every ``options.reconcile_every`` seconds.
    Returns the processor's counts (notifications, batches, rejected, stale...)."""
    from calipso_core.events.reconcile import reconcile

    with EnvironmentListener(app, env_name, options) as listener:
        next_repair = time.monotonic() + options.reconcile_every if options.reconcile_every > 0 else None
        while not stop.wait(1.0 if next_repair is None else max(0.05, min(1.0, next_repair - time.monotonic()))):
            if next_repair is not None and time.monotonic() >= next_repair:
                with listener.processor.lock:
                    repair = reconcile(app, env_name)
                if on_reconciled:
                    on_reconciled(repair)
                next_repair = time.monotonic() + options.reconcile_every
    return listener.processor.stats
