"""A plugin that registers a configuration section named like the core's own."""

from calipso_core import hookimpl
from calipso_core.types import ConfigSection


@hookimpl
def calipso_config_sections():
    return [ConfigSection("CLI", {"type": "object"})]
