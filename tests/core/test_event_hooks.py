"""The ``calipso_event_handlers`` hook: records collected by name, duplicates refused."""

from __future__ import annotations

import pytest

from calipso_core import hookimpl
from calipso_core.errors import PluginError
from calipso_core.plugins import PluginInfo, get_plugin_manager
from calipso_core.types import EventHandler


class Handlers:
    def __init__(self, name: str):
        self.name = name

    @hookimpl
    def calipso_event_handlers(self):
        return [EventHandler(self.name, ("port.create.end", "port.update.end"), lambda ctx, event: None)]


def test_event_handlers_are_collected_by_name_and_duplicates_refused():
    pm = get_plugin_manager(load_entry_points=False)
    pm.register_plugin(Handlers("ports"), PluginInfo("one", "calipso-test-one", "0", "tests"))
    assert pm.records("calipso_event_handlers")["ports"].event_types == ("port.create.end", "port.update.end")
    pm.register_plugin(Handlers("ports"), PluginInfo("two", "calipso-test-two", "0", "tests"))
    with pytest.raises(PluginError, match="EventHandler 'ports' is registered twice: by plugin 'one'"):
        pm.records("calipso_event_handlers")
