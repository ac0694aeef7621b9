"""What the VPP plugin registers with Calipso."""

from __future__ import annotations

from calipso_core import hookimpl
from calipso_core.types import ConfigSection

VPP_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "VPP"},
        "vppctl": {"type": "string", "default": "vppctl", "description": "how to run vppctl on a host"},
    },
}


@hookimpl
def calipso_config_sections():
    return [ConfigSection("VPP", VPP_SCHEMA, secrets=(), description="how to query VPP on the hosts")]
