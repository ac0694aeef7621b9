"""What the ACI plugin registers with Calipso."""

from __future__ import annotations

from calipso_core import hookimpl
from calipso_core.types import CliqueType, ConfigSection
from calipso_plugins_aci import fetchers, links, scanners
from calipso_plugins_aci.report import aci_ports_report

ACI_SCHEMA = {
    "type": "object",
    "required": ["name", "host", "user", "pwd"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "ACI"},
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "protocol": {"enum": ["http", "https"], "default": "https"},
        "user": {"type": "string", "minLength": 1},
        "pwd": {"type": "string"},
        "verify_tls": {"type": "boolean", "default": True},
        "ca_file": {"type": "string", "description": "pin the APIC's CA (PEM file)"},
    },
}

#: Reports this plugin offers to ``calipso report NAME ENV``: name -> ``report(app, env) -> rows``.
CALIPSO_REPORTS = {"aci-ports": aci_ports_report}


@hookimpl
def calipso_config_sections():
    return [ConfigSection("ACI", ACI_SCHEMA, secrets=("pwd",), description="the APIC of the fabric")]


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
def calipso_lab_services():
    from calipso_plugins_aci.lab.services import LAB_SERVICES  # the lab's code: imported by the lab only

    return LAB_SERVICES


@hookimpl
def calipso_clique_types():
    return [
        CliqueType(
            name="switch", focal_point_type="switch",
            link_types=("switch-switch_pnic", "switch_pnic-switch_pnic", "switch_pnic-host_pnic", "host_pnic-otep",
                        "host_pnic-vconnector", "host_pnic-vedge", "otep-vedge", "otep-vconnector",
                        "vedge-vconnector", "vedge-vnic", "vconnector-vnic", "vnic-instance", "vnic-vservice"),
        ),
    ]
