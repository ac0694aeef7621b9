"""What every command and service works with, built once and passed in (no globals)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.engine import Engine

from calipso_core import db
from calipso_core.environments import Environments
from calipso_core.plugins import CalipsoPluginManager, get_plugin_manager
from calipso_core.store import Inventory
from calipso_core.types import ConfigSection


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
    def inventory(self) -> Inventory:
        return Inventory(self.engine)

    @cached_property
    def environments(self) -> Environments:
        return Environments(self.engine)

    @property
    def config_sections(self) -> dict[str, ConfigSection]:
        return self.plugins.records("calipso_config_sections")

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
