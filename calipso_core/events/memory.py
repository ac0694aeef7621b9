"""How new an event is, and what a listener remembers of the objects it deleted.

Notifications come at least once and, with several listener processes or a requeue, not
always in order. An event carries a ``Version``: the object's revision number when the
service sends one (Neutron's ``revision_number``), and the time the notification was sent.
An event older than what is stored, or than the deletion of its object, is stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple


class Version(NamedTuple):
    """``revision`` is -1 when unknown; ``sent`` is the envelope's timestamp ('' if none)."""

    revision: int = -1
    sent: str = ""

    def older_than(self, other: Version) -> bool:
        """Compare revisions when both are known, else the send times when both are known;
        an event that cannot be compared is not older."""
        if self.revision >= 0 and other.revision >= 0:
            return self.revision < other.revision
        if self.sent and other.sent:
            return _sortable(self.sent) < _sortable(other.sent)
        return False


def _sortable(timestamp: str) -> str:
    """oslo writes ``2016-10-24 21:29:56.383789``; some senders use a ``T``."""
    return timestamp.replace("T", " ").rstrip("Z")


def revision_of(value) -> int:
    """A revision number from a payload or a stored document (-1 when absent or not a number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


class EventMemory:
    """The objects a listener deleted lately, with the version of their deletion, so that a
    create or update of them that comes late is recognised as stale. Bounded (oldest
    forgotten first) and per process: redelivery after a restart comes in order anyway."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self._deleted: OrderedDict[str, Version] = OrderedDict()
        self._lock = threading.Lock()

    def deleted(self, object_id: str, version: Version) -> None:
        with self._lock:
            self._deleted.pop(object_id, None)
            self._deleted[object_id] = version
            while len(self._deleted) > self.size:
                self._deleted.popitem(last=False)

    def deletion_of(self, object_id: str) -> Version | None:
        with self._lock:
            return self._deleted.get(object_id)

    def recreated(self, object_id: str) -> None:
        with self._lock:
            self._deleted.pop(object_id, None)
