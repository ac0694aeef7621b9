"""Calipso core: the plugin system, the inventory store and the front doors."""

import pluggy

__version__ = "0.1.0"

#: Mark a plugin function as the implementation of a hook in ``calipso_core.hookspecs``.
hookimpl = pluggy.HookimplMarker("calipso")
