"""What fetchers and link finders receive: the environment, its clients, the store, and
a per-scan cache so that each source is asked once per kind of data."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from calipso_core.environments import config_section
from calipso_core.errors import ConfigError
from calipso_core.store import Inventory
from calipso_core.types import Document


class _Failed:
    def __init__(self, error: Exception):
        self.error = error


def _is_client_key(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and key[0] == "client"


class ScanContext:
    """One scan's view of an environment.

    ``client(name, factory)`` and ``cached(key, loader)`` build a value once per scan,
    however many threads ask for it at the same time; clients with a ``close()`` method
    are closed when the scan ends.
    """

    def __init__(self, environment: Document, inventory: Inventory, settings: dict | None = None):
        self.environment = environment
        self.name: str = environment["name"]
        self.inventory = inventory
        self.settings = settings or {}
        self._values: dict[Any, Any] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._held: dict[str, list[Document]] | None = None
        self._guard = threading.Lock()
        self._clients: list[Any] = []

    def section(self, name: str) -> Document:
        """The environment's configuration section ``name`` (a clear error if missing)."""
        found = config_section(self.environment, name)
        if found is None:
            raise ConfigError(f"environment {self.name!r} has no {name} configuration section")
        return found

    def cached(self, key: Any, loader: Callable[[], Any]) -> Any:
        """The value of ``key``, loaded once; a loader's error is remembered and raised
        again to every later caller (an unreachable host is not retried in one scan)."""
        with self._guard:
            if key in self._values:
                return self._unwrap(self._values[key])
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    value = loader()
                except Exception as error:  # noqa: BLE001 - kept and re-raised below
                    value = _Failed(error)
                with self._guard:
                    self._values[key] = value
            return self._unwrap(self._values[key])

    @staticmethod
    def _unwrap(value: Any) -> Any:
        if isinstance(value, _Failed):
            raise value.error
        return value

    def client(self, name: str, factory: Callable[[ScanContext], Any]) -> Any:
        def build():
            value = factory(self)
            self._clients.append(value)
            return value

        return self.cached(("client", name), build)

    def forget_data(self) -> None:
        """Drop every loaded value but the working clients: what the inventory walk read
        (API collections, parsed host states) once its objects are in hand, so that the
        phases after it (which read the stored inventory) do not carry it too."""
        with self._guard:
            self._values = {key: value for key, value in self._values.items()
                            if _is_client_key(key) and not isinstance(value, _Failed)}
            self._locks = {key: lock for key, lock in self._locks.items() if key in self._values}

    def objects(self, object_type: str, without: tuple[str, ...] = ()) -> list[Document]:
        """Every stored object of one type in this environment, read once per scan (or
        held, see ``hold_objects``), by id; their documents ``without`` the fields named
        (a vEdge's tunnels to every other host)."""
        if self._held is not None:
            docs = self._held.get(object_type, [])
            return [{k: v for k, v in doc.items() if k not in without} for doc in docs] if without else docs
        return self.cached(("objects", object_type, without),
                           lambda: self.inventory.find(self.name, {"type": object_type}, without=without))

    def hold_objects(self, docs: Iterable[Document]) -> None:
        """Answer ``objects`` from ``docs``: every stored object of the environment, as the
        walk has just written them, so that the phases after it need not read them back
        (24,000 objects: 0.4 s of an 8 s rescan went to reading and decoding them)."""
        held: dict[str, list[Document]] = defaultdict(list)
        for doc in sorted(docs, key=itemgetter("id")):
            held[doc["type"]].append(doc)
        self._held = dict(held)

    def close(self) -> None:
        for client in reversed(self._clients):
            close = getattr(client, "close", None)
            if close:
                close()
        self._clients.clear()
        self._values.clear()
        self._held = None
