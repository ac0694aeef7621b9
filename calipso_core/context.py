"""What every command and service works with, built once and passed in (no globals)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from calipso_core import db
from calipso_core.environments import Environments
from calipso_core.plugins import CalipsoPluginManager, get_plugin_manager
from calipso_core.store import Inventory
from calipso_core.types import ConfigSection

#: Connections the reader opens past its pool's size when busy (closed again after use).
READER_OVERFLOW = 20


class Calipso:
    """The database, the plugins and the repositories, each made when first needed."""

    def __init__(self, database_url: str | None = None, plugins: CalipsoPluginManager | None = None):
        self._database_url = database_url
        if plugins is not None:
            self.plugins = plugins

    @cached_property
    def plugins(self) -> CalipsoPluginManager:
        return get_plugin_manager()

    @cached_property
    def engine(self) -> Engine:
        return db.get_engine(self._database_url)

    @cached_property
    def reader(self) -> Engine:
        """An engine for work that only reads (the API's ``GET`` requests), with its own
        pool of connections in autocommit mode: a query is one round trip, without
        ``BEGIN`` and ``ROLLBACK`` around it. Under PostgreSQL's default isolation (read
        committed) each statement of a transaction sees its own snapshot anyway, so the
        answers are the same. (Autocommit set per connection on the shared pool would
        cost a ``SET`` round trip at each checkout and check-in instead.)

        Its connections are not pinged at checkout (another round trip per request): a
        connection the database has cut fails the query that uses it, SQLAlchemy then
        discards every connection of the pool opened before, and the API runs that read
        once more (``calipso_core.api.operation``)."""
        return create_engine(self.engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                             pool_size=self.engine.pool.size(), max_overflow=READER_OVERFLOW,
                             json_serializer=db.dumps)

    @cached_property
    def inventory(self) -> Inventory:
        return Inventory(self.engine)

    @cached_property
    def environments(self) -> Environments:
        return Environments(self.engine)

    @property
    def config_sections(self) -> dict[str, ConfigSection]:
        return self.plugins.records("calipso_config_sections")

    def close(self) -> None:
        for name in ("reader", "engine"):
            if name in self.__dict__:
                self.__dict__[name].dispose()
