"""The message bus: the only module of Calipso that imports oslo.messaging.

OpenStack services publish notifications through oslo.messaging to RabbitMQ topic
exchanges (Nova to ``nova``, Neutron to ``neutron``, topic ``notifications``). Calipso
reads them in its own pool (``calipso-<environment>``), so it gets its own copy without
taking Ceilometer's. What is done here, and why (measured on oslo.messaging 18):

- a message is acked only after the handler returned; a handler that raises
  ``RetryLater`` gets it again after a back-off (the library default acks and drops it);
- the prefetch is bounded (the default takes the whole backlog) and above 16;
- oslo's 16-entry duplicate cache is switched off: after a reconnect it silently holds
  redelivered messages unacked, which stalled a listener for good. Handlers are
  idempotent instead, keyed on ``Notification.message_id``;
- the pool queue can be declared before anything consumes it, so notifications sent in
  the meantime (during a scan) wait for the listener;
- a publish that fails raises ``MessagingError`` instead of only being logged;
- durable or quorum queues are set from the AMQP section, the same way on both sides;
- a batch listener with one worker takes a backlog in large batches (see
  ``NotificationListener._one_batch_at_a_time``).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from calipso_core.errors import CalipsoError

with warnings.catch_warnings():
    # oslo.messaging pulls in oslo.service's eventlet backend, which announces eventlet's
    # deprecation on import, and eventlet's DNS module loads dnspython's DSA support,
    # which cryptography 51 announces as deprecated; Calipso uses the threading executor
    # and never eventlet.
    warnings.filterwarnings("ignore", message=r"(?s).*eventlet")  # matched case-insensitively
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import oslo_messaging
    from oslo_config import cfg
    from oslo_messaging import opts as oslo_messaging_opts

LOG = logging.getLogger(__name__)
EXCHANGES = ("nova", "neutron")
TOPIC = "notifications"
VERSIONED_TOPIC = "versioned_notifications"
PRIORITIES = ("info", "warn", "error")
#: How long the poll thread waits for the worker to finish a batch before it polls for the
#: next one anyway: it also sends the acknowledgements and answers the broker's heartbeats.
BATCH_WAIT = 10.0
#: How long a poll may take messages from the broker's connection after a batch of at least
#: ``BACKLOG_BATCH`` (a backlog, most likely): a poll stops taking them at its batch timeout
#: even with thousands waiting (a 50 ms poll took 250-300), and every batch pays for its
#: hosts, links and cliques again. Such a poll ends as soon as its batch is full; the one
#: that finds the backlog's end waits that long for more.
BACKLOG_POLL, BACKLOG_BATCH = 0.3, 64
_SEND_FAILURE_LOGGER = "oslo_messaging.notify.messaging"


class MessagingError(CalipsoError):
    """Raised when the bus cannot be reached, refuses the credentials or virtual host, or
    drops a notification being published; names the broker (never the password)."""


class RetryLater(CalipsoError):
    """Raised by a notification handler for a transient failure (database down, object
    not there yet): the message goes back to the queue and comes again after a back-off."""


@dataclass(frozen=True)
class Notification:
    """One notification as received: the oslo.messaging envelope and the service's payload.
    ``message_id`` stays the same on every redelivery; use it to make handling idempotent."""

    publisher_id: str
    event_type: str
    priority: str
    payload: dict
    message_id: str
    timestamp: str
    context: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class BusSettings:
    """Where the bus is and how its queues are declared (the same on every service)."""

    url: str = field(repr=False)
    exchanges: tuple[str, ...] = EXCHANGES
    topic: str = TOPIC
    durable_queues: bool = False
    quorum_queues: bool = False
    prefetch: int = 64  # > 16: see the duplicate-cache note above

    @property
    def broker(self) -> str:
        """host:port/vhost of the broker, for messages (no credentials)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}{parts.path or '/'}"


def transport_url(amqp: Mapping) -> str:
    """The oslo.messaging URL of an environment's AMQP section (credentials quoted)."""
    vhost = amqp.get("virtual_host", "/")
    path = "" if vhost in ("", "/") else quote(vhost, safe="")
    user, pwd = quote(str(amqp["user"]), safe=""), quote(str(amqp["pwd"]), safe="")
    return f"rabbit://{user}:{pwd}@{amqp['host']}:{int(amqp['port'])}/{path}"


def bus_settings(source: Mapping | str, **overrides) -> BusSettings:
    """Settings from an AMQP section dict or from a ``rabbit://`` URL, then ``overrides``."""
    if isinstance(source, str):
        return replace(BusSettings(url=source), **overrides)
    settings = BusSettings(
        url=transport_url(source), exchanges=tuple(source.get("exchanges") or EXCHANGES),
        topic=source.get("topic") or TOPIC, durable_queues=bool(source.get("durable_queues", False)),
        quorum_queues=bool(source.get("quorum_queues", False)))
    return replace(settings, **overrides)


def pool_name(environment: str, topic: str = TOPIC) -> str:
    """Calipso's pool (and queue) name: unique per environment and per topic, because
    oslo shares one pool queue between listeners of different topics."""
    return f"calipso-{environment}" if topic == TOPIC else f"calipso-{environment}-{topic}"


def notification_transport(settings: BusSettings, exchange: str | None = None, workers: int = 1):
    """An oslo.messaging notification transport with its own private configuration:
    control exchange (where a notifier publishes), prefetch, queue durability, worker count."""
    conf = cfg.ConfigOpts()
    conf([], project="calipso", default_config_files=[], default_config_dirs=[])
    for group, opts in oslo_messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_override("control_exchange", exchange or settings.exchanges[0])
    conf.set_override("executor_thread_pool_size", workers)
    rabbit = {"rabbit_qos_prefetch_count": settings.prefetch, "amqp_durable_queues": settings.durable_queues,
              "rabbit_quorum_queue": settings.quorum_queues}
    for name, value in rabbit.items():
        conf.set_override(name, value, group="oslo_messaging_rabbit")
    try:
        return oslo_messaging.get_notification_transport(conf, url=settings.url)
    except Exception as exc:
        raise MessagingError(f"cannot use the message bus at {settings.broker}: {type(exc).__name__}") from exc


class NotificationPublisher:
    """Publishes notifications to one exchange the way OpenStack services do
    (driver ``messagingv2``, topic ``notifications``), and raises when one is dropped."""

    def __init__(self, settings: BusSettings, exchange: str, topic: str | None = None, retry: int = 10):
        self.settings, self.exchange = settings, exchange
        self._transport = notification_transport(settings, exchange=exchange)
        # A positive retry makes a first connection retry too (-1 drops at once).
        self._notifier = oslo_messaging.Notifier(self._transport, publisher_id=f"calipso.{exchange}",
                                                 driver="messagingv2", topics=[topic or settings.topic], retry=retry)
        self._failures = _SendFailureWatch()
        logging.getLogger(_SEND_FAILURE_LOGGER).addHandler(self._failures)

    def send(self, publisher_id: str, event_type: str, priority: str, payload: dict,
             context: dict | None = None) -> None:
        """Publish one notification; ``priority`` as on the wire (``INFO``, ``WARN``, ``ERROR``)."""
        method = getattr(self._notifier.prepare(publisher_id=publisher_id), priority.lower())
        with self._failures.watch():
            method(_RequestContext(context or {}), event_type, payload)
        if self._failures.failed:
            raise MessagingError(f"{event_type} from {publisher_id} was not published to exchange "
                                 f"{self.exchange} at {self.settings.broker}")

    def close(self) -> None:
        logging.getLogger(_SEND_FAILURE_LOGGER).removeHandler(self._failures)
        self._transport.cleanup()

    def __enter__(self) -> NotificationPublisher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _RequestContext:
    """A request context given as a dict. oslo.messaging sends only context objects (a
    plain dict is replaced by an empty one), each key as ``_context_<key>``; tokens never."""

    SECRETS = frozenset({"auth_token", "auth_token_info", "service_token", "password"})

    def __init__(self, values: Mapping):
        self._values = {k: v for k, v in values.items() if k not in self.SECRETS}

    def redacted_copy(self) -> _RequestContext:
        return self

    def to_dict(self) -> dict:
        return dict(self._values)


class _SendFailureWatch(logging.Handler):
    """Notices oslo's "Could not send notification" error, logged (not raised) by the
    notifier in the sending thread; it relies on that logger passing ERROR records on,
    as it does unless logging is configured to silence oslo.messaging's errors."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._local, "watching", False):
            self._local.failed = True

    @property
    def failed(self) -> bool:
        return getattr(self._local, "failed", False)

    @contextmanager
    def watch(self):
        self._local.watching, self._local.failed = True, False
        try:
            yield
        finally:
            self._local.watching = False


class Backoff:
    """Delays before a failed message comes back: ``first`` seconds doubling up to
    ``longest``, counted per message id (kept for the ``remember`` most recent ids)."""

    def __init__(self, first: float = 0.2, longest: float = 30.0, remember: int = 10_000):
        self.first, self.longest, self.remember = first, longest, remember
        self._attempts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()  # shared by the listener's workers

    def next_delay(self, message_id: str) -> float:
        with self._lock:
            attempt = self._attempts.pop(message_id, 0) + 1
            self._attempts[message_id] = attempt
            while len(self._attempts) > self.remember:
                self._attempts.popitem(last=False)
        return min(self.first * 2 ** (attempt - 1), self.longest)

    def forget(self, message_id: str) -> None:
        with self._lock:
            self._attempts.pop(message_id, None)


def _log_rejected(notification: Notification, exc: Exception) -> None:
    LOG.error("%s (message %s from %s) was rejected: %s", notification.event_type, notification.message_id,
              notification.publisher_id, exc, exc_info=exc)


def _notification(priority: str, ctxt, publisher_id, event_type, payload, metadata) -> Notification:
    return Notification(publisher_id=publisher_id, event_type=event_type, priority=priority.upper(),
                        payload=payload, message_id=metadata.get("message_id", ""),
                        timestamp=str(metadata.get("timestamp", "")),
                        context={k: v for k, v in (ctxt or {}).items() if k != "client_timeout"})  # an RPC field


class _Endpoint:
    """Turns a handler's outcome into oslo's: return → ack; ``RetryLater`` → back-off, then
    requeue; any other exception → ``on_rejected`` and ack (a bad message must not loop),
    unless ``on_rejected`` fails too (then back-off and requeue). With ``batch`` the
    handler gets a list, and the whole batch shares one outcome."""

    def __init__(self, handler, priorities, backoff: Backoff, on_rejected, batch: bool):
        self._handler, self._backoff, self._on_rejected = handler, backoff, on_rejected
        for priority in priorities:
            deliver = self._deliver_batch if batch else self._deliver_one
            setattr(self, priority, lambda *args, _p=priority, _d=deliver: _d(_p, *args))

    def _deliver_one(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        note = _notification(priority, ctxt, publisher_id, event_type, payload, metadata)
        return self._outcome([note], lambda: self._handler(note))

    def _deliver_batch(self, priority, messages):
        notes = [_notification(priority, m["ctxt"], m["publisher_id"], m["event_type"], m["payload"], m["metadata"])
                 for m in messages]
        return self._outcome(notes, lambda: self._handler(notes))

    def _outcome(self, notes: list[Notification], call: Callable[[], object]):
        key = notes[0].message_id
        try:
            self._handle(notes, call)
        except Exception as exc:  # RetryLater, or the rejection could not be recorded
            delay = self._backoff.next_delay(key)
            LOG.warning("%s (message %s) will come again in %.1f s: %s", notes[0].event_type, key, delay, exc)
            time.sleep(delay)
            return oslo_messaging.NotificationResult.REQUEUE
        self._backoff.forget(key)
        return oslo_messaging.NotificationResult.HANDLED

    def _handle(self, notes: list[Notification], call: Callable[[], object]) -> None:
        try:
            call()
        except RetryLater:
            raise
        except Exception as exc:
            for note in notes:
                self._on_rejected(note, exc)


class _NoDuplicateCache:
    """Stands in for oslo's per-listener cache of the last 16 acked ids (see module doc)."""

    def check_duplicate_message(self, message_data):
        return message_data.pop("_unique_id", None)

    def add(self, msg_id) -> None:
        pass


class NotificationListener:
    """Calipso's pool on the configured exchanges and topic, calling ``handler`` with each
    ``Notification`` (or, with ``batch_size``, with lists of them, in arrival order).

    ``workers=1`` keeps the order of events per queue; more workers go faster and reorder.
    """

    def __init__(self, settings: BusSettings, environment: str, handler: Callable, *,
                 priorities: tuple[str, ...] = PRIORITIES, workers: int = 1, batch_size: int | None = None,
                 batch_timeout: float = 1.0, backoff: Backoff | None = None,
                 on_rejected: Callable[[Notification, Exception], None] = _log_rejected):
        if batch_size and settings.prefetch < 2 * batch_size:  # a batch is never larger than the prefetch
            settings = replace(settings, prefetch=2 * batch_size)
        self.settings, self.pool = settings, pool_name(environment, settings.topic)
        self._transport = notification_transport(settings, workers=workers)
        targets = [oslo_messaging.Target(exchange=x, topic=settings.topic) for x in settings.exchanges]
        endpoint = _Endpoint(handler, priorities, backoff or Backoff(), on_rejected, batch=bool(batch_size))
        common = {"executor": "threading", "allow_requeue": True, "pool": self.pool}
        if batch_size:
            self._server = oslo_messaging.get_batch_notification_listener(
                self._transport, targets, [endpoint], batch_size=batch_size, batch_timeout=batch_timeout, **common)
        else:
            self._server = oslo_messaging.get_notification_listener(self._transport, targets, [endpoint], **common)
        self._without_duplicate_cache()
        if batch_size and workers == 1:
            self._one_batch_at_a_time(batch_timeout)
        self._started = False

    def declare_queues(self) -> None:
        """Create the pool queue and its bindings now, without consuming, so that what is
        published from now on waits for ``start()`` (a pool queue otherwise exists only
        once a listener of the pool has started)."""
        with self._bus_errors("declare the queue of"):
            self._server._create_listener().cleanup()

    def start(self) -> NotificationListener:
        with self._bus_errors("start"):
            self._server.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop consuming, finish (and ack) what was already received, close the connection."""
        if self._started:
            self._server.stop()
            self._server.wait()
            self._started = False
        self._transport.cleanup()

    def __enter__(self) -> NotificationListener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _without_duplicate_cache(self) -> None:
        create = self._server._create_listener

        def create_listener():
            adapter = create()
            poller = getattr(adapter, "_poll_style_listener", None)
            if poller is not None and hasattr(poller, "msg_id_cache"):
                poller.msg_id_cache = _NoDuplicateCache()
            return adapter

        self._server._create_listener = create_listener

    def _one_batch_at_a_time(self, batch_timeout: float) -> None:
        """Poll for the next batch only once the worker is done with the last one (waiting
        at most ``BATCH_WAIT``). oslo's poll thread otherwise cuts what arrives into a batch
        per ``batch_timeout`` and queues them all: under a backlog the worker applied batches
        of 35 notifications, each paying the fixed cost of a batch (its transaction, the
        links and cliques of its hosts), instead of a few large ones. While the poll thread
        waits, deliveries gather (up to the prefetch); after a large batch, the next poll
        takes them for up to ``BACKLOG_POLL``."""
        server = self._server
        process = server._process_incoming

        def process_then_signal(incoming, done: threading.Event):
            try:
                process(incoming)
            finally:
                done.set()

        def on_incoming(incoming):
            done = threading.Event()
            server._work_executor.submit(process_then_signal, incoming, done)
            done.wait(BATCH_WAIT)
            # read by the poll thread (this one) at its next poll
            server.listener.batch_timeout = BACKLOG_POLL if len(incoming) >= BACKLOG_BATCH else batch_timeout

        server._on_incoming = on_incoming

    @contextmanager
    def _bus_errors(self, doing: str):
        try:
            yield
        except CalipsoError:
            raise
        except Exception as exc:
            raise MessagingError(f"cannot {doing} listener pool {self.pool} at {self.settings.broker}: "
                                 f"{type(exc).__name__}: {exc}") from exc


def declare_pool_queues(settings: BusSettings, environment: str) -> str:
    """Declare ``environment``'s pool queue before a scan starts; returns the queue name."""
    listener = NotificationListener(settings, environment, handler=lambda _note: None)
    try:
        listener.declare_queues()
    finally:
        listener.stop()
    return listener.pool
