"""Applying a batch of notifications to one environment's inventory, in one transaction.

Each notification goes to the handler of its event type inside a savepoint: a handler
that fails (``EventError``, or any other exception) has its changes rolled back and
becomes a message, and the batch goes on. Then what the handlers deferred runs once,
the links of the hosts they touched are recomputed, then the cliques those changes may
have changed; the transaction commits, and only then does the listener acknowledge the
batch. A database that cannot be reached makes the whole batch come again later
(``RetryLater``), so nothing is dropped; so does a handler's ``RetryLater``, a few times.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import exc as sa_exc

from calipso_core import messages
from calipso_core.events.cliques import update_cliques
from calipso_core.events.context import SOURCE_SYSTEM, EventContext, EventError, clean, payload_for_message
from calipso_core.events.memory import EventMemory
from calipso_core.events.relink import hostless_types, relink_hosts
from calipso_core.events.sources import LiveSources
from calipso_core.messaging import Notification, RetryLater
from calipso_core.scan.engine import collector_paused
from calipso_core.scan.tree import ScannerTree
from calipso_core.types import EventHandler

log = logging.getLogger(__name__)
#: Errors of the database connection (not of a statement): the batch is retried.
# (PendingRollbackError: a connection lost inside a transaction, used again.)
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.PendingRollbackError)
HOSTLESS_TTL = 300.0


class _Careful(Exception):
    """A handler failed in a run without savepoints: the batch runs again with them."""


def handlers_by_event_type(handlers: Sequence[EventHandler]) -> dict[str, EventHandler]:
    by_type: dict[str, EventHandler] = {}
    for handler in handlers:
        for event_type in handler.event_types:
            by_type.setdefault(event_type, handler)
    return by_type


def is_transient(error: BaseException | None) -> bool:
    """An error of the database connection, here or in what caused it (a lost connection
    also makes the rollback that follows fail)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, TRANSIENT) or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _rollback_quietly(savepoint) -> None:
    """Roll a savepoint back on a connection that may be gone (the outer rollback follows)."""
    with contextlib.suppress(sa_exc.SQLAlchemyError):
        savepoint.rollback()


class EventProcessor:
    """Applies batches of one environment's notifications (the listener's handler)."""

    def __init__(self, app, env_name: str, *, retries: int = 5, concurrency: int = 4):
        self.app, self.env_name, self.retries, self.concurrency = app, env_name, retries, concurrency
        self.environment = app.environments.get(env_name)
        self.handlers = handlers_by_event_type(list(app.plugins.records("calipso_event_handlers").values()))
        self.tree = ScannerTree.from_plugins(app.plugins)
        self.sources = LiveSources(self.environment, app.inventory, {"concurrency": concurrency})
        self.memory = EventMemory()
        self.lock = threading.Lock()  # one batch at a time; reconciliation takes it too
        self.stats: Counter = Counter()
        self._attempts: OrderedDict[str, int] = OrderedDict()
        self._hostless: tuple[float, set[str]] | None = None
        #: Seconds from each notification's sending to its batch's commit (the latest ones;
        #: ``stats["timed"]`` counts them all).
        self.latencies: deque[float] = deque(maxlen=100_000)

    def __call__(self, batch: Notification | list[Notification]) -> None:
        notes = batch if isinstance(batch, list) else [batch]
        with self.lock, collector_paused():  # a batch reads thousands of documents, and frees them
            started = time.perf_counter()
            try:
                try:
                    ev = self._run(notes, careful=False)
                except _Careful:
                    self.stats["careful_batches"] += 1
                    ev = self._run(notes, careful=True)
            except Exception as error:
                if is_transient(error):
                    self.stats["retried_batches"] += 1
                    raise RetryLater(f"the database cannot be used now: {type(error).__name__}") from error
                raise
            self._note_latencies(notes)
            self.stats.update(ev.stats)
            self.stats["seconds"] += time.perf_counter() - started
            self.stats["notifications"] += len(notes)
            self.stats["batches"] += 1
            log.debug("applied %d notifications in %.3f s", len(notes), time.perf_counter() - started)

    def close(self) -> None:
        self.sources.close()

    def _note_latencies(self, notes: list[Notification]) -> None:
        committed = datetime.now(UTC)
        for note in notes:
            try:
                sent = datetime.fromisoformat(note.timestamp).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            self.latencies.append((committed - sent).total_seconds())
            self.stats["timed"] += 1

    def _hostless_types(self, conn) -> set[str]:
        """``relink.hostless_types``, read again every ``HOSTLESS_TTL`` seconds."""
        now = time.monotonic()
        if self._hostless is None or self._hostless[0] < now:
            self._hostless = (now + HOSTLESS_TTL, hostless_types(conn, self.env_name))
        return self._hostless[1]

    def _run(self, notes: list[Notification], careful: bool) -> EventContext:
        """One transaction for the batch. Not ``careful``: no savepoints, and the first
        handler that fails stops the run (``_Careful``); ``careful``: a savepoint per
        notification, failures become messages."""
        started = time.perf_counter()
        self.sources.new_batch()
        with self.app.engine.begin() as conn:
            ev = EventContext(self.app, self.environment, conn, self.sources, self.tree, self.memory,
                              lambda: self._hostless_types(conn))
            for note in notes:
                self._apply(ev, note, careful)
            ev.notification = None
            ev.stats["seconds_handlers"] += time.perf_counter() - started
            self._finish(ev)
        return ev

    # -- one notification ----------------------------------------------------------------

    def _apply(self, ev: EventContext, note: Notification, careful: bool) -> None:
        ev.notification = note
        handler = self.handlers.get(note.event_type)
        if handler is None:
            self._reject(ev, note, EventError(f"no handler for event type {note.event_type!r}", level="warn"))
            return
        if not isinstance(note.payload, dict):
            self._reject(ev, note, EventError(f"the payload is a {type(note.payload).__name__}, not an object"))
            return
        mark, savepoint = ev.pending(), ev.conn.begin_nested() if careful else None
        try:
            handler.handle(ev, note)
        except Exception as error:
            if is_transient(error):
                if savepoint is not None:
                    _rollback_quietly(savepoint)
                raise
            if isinstance(error, RetryLater) and self._retry(note, counted=careful):
                if savepoint is not None:
                    _rollback_quietly(savepoint)
                raise
            if not careful:
                raise _Careful() from error
            savepoint.rollback()
            ev.discard_since(mark)
            self._reject(ev, note, error, handler)
            return
        if savepoint is not None:
            savepoint.commit()
        ev.stats["handled"] += 1
        self._attempts.pop(note.message_id, None)

    def _retry(self, note: Notification, counted: bool = False) -> bool:
        """Whether a handler's ``RetryLater`` may still send the batch round again
        (``counted``: this attempt was counted already, by the run without savepoints)."""
        attempts = self._attempts.pop(note.message_id, 0) + (0 if counted else 1)
        self._attempts[note.message_id] = attempts
        while len(self._attempts) > 10_000:
            self._attempts.popitem(last=False)
        return attempts <= self.retries

    def _reject(self, ev: EventContext, note: Notification, error: Exception,
                handler: EventHandler | None = None) -> None:
        if isinstance(error, EventError):
            level, reason = error.level, error.reason
            related, related_type = error.related_object, error.related_object_type
        else:
            level, related, related_type = "error", None, None
            reason = f"handler {handler.name if handler else '?'} failed: {type(error).__name__}: {error}"
            log.warning("%s (message %s): %s", note.event_type, note.message_id, reason, exc_info=error)
        savepoint = ev.conn.begin_nested()
        try:
            ev.report(level, f"{note.event_type}: {reason}", related_object=related, related_object_type=related_type,
                      reason=reason, payload=payload_for_message(note.payload))
            savepoint.commit()
        except Exception as failure:
            if is_transient(failure):
                _rollback_quietly(savepoint)
                raise
            savepoint.rollback()
            log.error("%s (message %s) was rejected (%s) and could not be recorded: %s", note.event_type,
                      note.message_id, reason, failure)
        ev.stats["rejected"] += 1

    # -- the end of the batch ------------------------------------------------------------

    def _finish(self, ev: EventContext) -> None:
        while True:
            actions = ev.take_deferred()
            if not actions:
                break
            for key, action in actions:
                self._guarded(ev, key, lambda a=action: a(ev))
        self._guarded(ev, "links", lambda: ev.changed_links.extend(
            relink_hosts(ev, ev.hosts_to_relink, ev.host_fields)))
        self._guarded(ev, "cliques", lambda: self._cliques(ev))

    def _cliques(self, ev: EventContext) -> None:
        written, removed = update_cliques(ev.conn, ev.environment, ev.changed, ev.removed, ev.changed_links)
        ev.stats["cliques_written"] += written
        ev.stats["cliques_removed"] += removed

    def _guarded(self, ev: EventContext, what, step) -> None:
        """Run one step of the batch's end in a savepoint; a failure other than the
        database's becomes a message (a later reconciliation repairs what it left out)."""
        savepoint, started = ev.conn.begin_nested(), time.perf_counter()
        try:
            step()
            savepoint.commit()
            ev.stats[f"seconds_{what if isinstance(what, str) else what[0]}"] += time.perf_counter() - started
        except Exception as error:
            if is_transient(error):
                _rollback_quietly(savepoint)
                raise
            savepoint.rollback()
            log.warning("%s failed", what, exc_info=error)
            ev.report("error", f"{what}: {type(error).__name__}: {error}", reason="deferred step failed")


def record_rejection(app, env_name: str, note: Notification, error: Exception) -> None:
    """For the listener's ``on_rejected``: a batch that failed outside the handlers."""
    with app.engine.begin() as conn:
        messages.record(conn, env_name, SOURCE_SYSTEM, "error",
                        clean(f"{note.event_type}: could not be applied: {type(error).__name__}: {error}"),
                        event_type=clean(note.event_type), reason=clean(str(error)),
                        message_id=clean(note.message_id), publisher_id=clean(note.publisher_id),
                        payload=payload_for_message(note.payload))
