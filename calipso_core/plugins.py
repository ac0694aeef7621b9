"""Finding, loading and checking the installed plugins.

Plugins are modules named by entry points in the group ``calipso.plugins``; stevedore
loads them and each loaded module is registered in a pluggy ``PluginManager``. The
core's own defaults are registered the same way, under the name ``core``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy
from stevedore import ExtensionManager

from calipso_core import hookspecs
from calipso_core import types as records
from calipso_core.errors import PluginError

ENTRY_POINT_GROUP = "calipso.plugins"
DEFAULT_PLUGINS = ("calipso_core.defaults",)
CORE = "core"

#: The record type each hook must return.
HOOK_RECORDS: dict[str, type] = {
    "calipso_fetchers": records.Fetcher,
    "calipso_scanners": records.Scanner,
    "calipso_link_finders": records.LinkFinder,
    "calipso_event_handlers": records.EventHandler,
    "calipso_monitoring_checks": records.MonitoringCheck,
    "calipso_clique_types": records.CliqueType,
    "calipso_config_sections": records.ConfigSection,
    "calipso_lab_services": records.LabService,
}
#: Hooks only the simulated lab asks: their records are not built (nor the lab's code
#: imported) when plugins load; their names are checked when the lab asks for them.
LAB_HOOKS = ("calipso_lab_services",)


@dataclass(frozen=True)
class PluginInfo:
    """An installed plugin: its entry point name and the distribution that ships it."""

    name: str
    distribution: str
    version: str
    module: str


@dataclass(frozen=True)
class LoadFailure:
    """A plugin whose module failed to import; it is skipped."""

    name: str
    distribution: str
    entry_point: str
    error: str


@dataclass(frozen=True)
class Contribution:
    """One record returned by one plugin."""

    plugin: str
    record: Any


class CalipsoPluginManager(pluggy.PluginManager):
    """A pluggy manager that also knows where each plugin came from and what it gives."""

    def __init__(self) -> None:
        super().__init__("calipso")
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.load_failures: list[LoadFailure] = []
        self._contributions: dict[str, list[Contribution]] = {}

    def register_plugin(self, module: Any, info: PluginInfo) -> None:
        if info.name in self.infos:
            other = self.infos[info.name]
            raise PluginError(
                f"two plugins are named {info.name!r}: {other.module} "
                f"(from {other.distribution}) and {info.module} (from {info.distribution})"
            )
        self.register(module, name=info.name)
        self.infos[info.name] = info
        self._contributions.clear()

    def contributions(self, hook: str) -> list[Contribution]:
        """Every record the plugins return for ``hook``, with the plugin that gave it."""
        if hook not in self._contributions:
            self._contributions[hook] = list(self._collect(hook))
        return self._contributions[hook]

    def _collect(self, hook: str) -> Iterable[Contribution]:
        expected = HOOK_RECORDS[hook]
        for impl in getattr(self.hook, hook).get_hookimpls():  # in registration order
            for record in impl.function() or ():
                if not isinstance(record, expected):
                    raise PluginError(
                        f"plugin {impl.plugin_name!r} returned {record!r} from {hook}; "
                        f"expected {expected.__name__} records"
                    )
                yield Contribution(impl.plugin_name, record)

    def records(self, hook: str) -> dict[str, Any]:
        """The records of ``hook`` by name; two plugins giving one name is an error."""
        by_name: dict[str, Contribution] = {}
        for item in self.contributions(hook):
            name = item.record.name
            if name in by_name:
                first = by_name[name].plugin
                raise PluginError(
                    f"{HOOK_RECORDS[hook].__name__} {name!r} is registered twice: by "
                    f"plugin {first!r} ({self.infos[first].distribution}) and by plugin "
                    f"{item.plugin!r} ({self.infos[item.plugin].distribution})"
                )
            by_name[name] = item
        return {name: item.record for name, item in by_name.items()}

    def check_names(self) -> None:
        """Refuse duplicate record names in every hook but the lab's."""
        for hook in HOOK_RECORDS:
            if hook not in LAB_HOOKS:
                self.records(hook)

    def require(self, names: Iterable[str]) -> None:
        """Fail clearly when a plugin that configuration names is not installed."""
        missing = sorted(set(names) - set(self.infos))
        if missing:
            installed = ", ".join(sorted(self.infos))
            raise PluginError(
                f"plugin(s) {', '.join(missing)} named in configuration are not installed "
                f"(installed: {installed})"
            )


def _entry_point_distributions() -> dict[tuple[str, str], tuple[str, str]]:
    """(entry point name, value) -> (distribution, version), for the plugin group."""
    found = {}
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found[(ep.name, ep.value)] = (dist.metadata["Name"], dist.version)
    return found


def get_plugin_manager(load_entry_points: bool = True) -> CalipsoPluginManager:
    """Build the plugin manager: hook specs, the core's defaults, installed plugins.

    A plugin that fails to import is recorded in ``load_failures`` and skipped; duplicate
    names (of plugins or of the records they return) raise ``PluginError``.
    """
    pm = CalipsoPluginManager()
    core_version = importlib.metadata.version("calipso-core")
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register_plugin(module, PluginInfo(CORE, "calipso-core", core_version, module_name))
    if load_entry_points:
        dists = _entry_point_distributions()

        def failed(_manager: Any, ep: importlib.metadata.EntryPoint, err: Exception) -> None:
            dist, _version = dists.get((ep.name, ep.value), ("unknown", ""))
            pm.load_failures.append(
                LoadFailure(ep.name, dist, f"{ep.name} = {ep.value}", f"{type(err).__name__}: {err}")
            )

        extensions = ExtensionManager(
            namespace=ENTRY_POINT_GROUP, invoke_on_load=False, on_load_failure_callback=failed
        )
        for ext in sorted(extensions, key=lambda e: e.name):
            ep = ext.entry_point
            dist, version = dists.get((ep.name, ep.value), ("unknown", ""))
            pm.register_plugin(ext.plugin, PluginInfo(ext.name, dist, version, ep.value))
    pm.check_pending()
    pm.check_names()
    return pm
