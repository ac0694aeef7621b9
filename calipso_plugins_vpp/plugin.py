"""What the VPP plugin registers with Calipso."""

from __future__ import annotations

from calipso_core import hookimpl
from calipso_core.types import ConfigSection
from calipso_plugins_vpp import cliques, fetchers, links, scanners

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
def calipso_fetchers():
    return fetchers.FETCHERS


@hookimpl
def calipso_scanners():
    return scanners.SCANNERS


@hookimpl
def calipso_link_finders():
    return links.LINK_FINDERS


@hookimpl
def calipso_clique_types():
    return cliques.CLIQUE_TYPES


@hookimpl
def calipso_lab_services():
    from calipso_plugins_vpp.lab.services import LAB_SERVICES  # the lab's code: imported by the lab only

    return LAB_SERVICES


@hookimpl
def calipso_config_sections():
    return [ConfigSection("VPP", VPP_SCHEMA, secrets=(), description="how to query VPP on the hosts")]
