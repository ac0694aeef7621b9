"""What the OpenStack plugin registers with Calipso."""

from __future__ import annotations

from calipso_core import hookimpl
from calipso_core.types import CliqueType, ConfigSection
from calipso_plugins_openstack import links, scanners
from calipso_plugins_openstack.events.handlers import EVENT_HANDLERS
from calipso_plugins_openstack.fetchers import api, host

OPENSTACK_SCHEMA = {
    "type": "object",
    "required": ["name", "host", "port", "user", "pwd"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "OpenStack"},
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "protocol": {"enum": ["http", "https"], "default": "http"},
        "path": {"type": "string", "description": "Keystone path prefix, e.g. /identity"},
        "user": {"type": "string", "minLength": 1},
        "pwd": {"type": "string"},
        "admin_project": {"type": "string", "default": "admin"},
        "user_domain": {"type": "string", "default": "Default"},
        "project_domain": {"type": "string", "default": "Default"},
        "region": {"type": "string"},
        "cacert": {"type": "string", "description": "CA bundle to verify the API's TLS certificate"},
        "admin_token": {"type": "string"},
    },
}


@hookimpl
def calipso_fetchers():
    return [*api.FETCHERS, *host.FETCHERS]


@hookimpl
def calipso_scanners():
    return scanners.SCANNERS


@hookimpl
def calipso_link_finders():
    return links.LINK_FINDERS


@hookimpl
def calipso_event_handlers():
    return EVENT_HANDLERS


@hookimpl
def calipso_lab_services():
    from calipso_plugins_openstack.lab.services import LAB_SERVICES  # the lab's code: imported by the lab only

    return LAB_SERVICES


@hookimpl
def calipso_config_sections():
    return [ConfigSection("OpenStack", OPENSTACK_SCHEMA, description="the cloud's Keystone endpoint")]


@hookimpl
def calipso_clique_types():
    return [
        CliqueType(
            name="instance", focal_point_type="instance", constraints=("network",),
            link_types=("instance-vnic", "vnic-vconnector", "vconnector-vedge", "vnic-vedge", "vedge-otep",
                        "otep-vconnector", "otep-host_pnic", "vconnector-host_pnic", "vedge-host_pnic",
                        "host_pnic-network"),
        ),
        CliqueType(
            name="vservice", focal_point_type="vservice", constraints=("network",),
            link_types=("vservice-vnic", "vnic-vedge", "vnic-vconnector", "vconnector-vedge", "vedge-otep",
                        "otep-vconnector", "otep-host_pnic", "vconnector-host_pnic", "vedge-host_pnic",
                        "host_pnic-network"),
        ),
        CliqueType(
            name="network", focal_point_type="network", constraints=("network",),
            link_types=("network-host_pnic", "host_pnic-otep", "host_pnic-vconnector", "host_pnic-vedge",
                        "vconnector-otep", "otep-vedge", "vedge-vconnector", "vedge-vnic", "vconnector-vnic",
                        "vnic-instance", "vnic-vservice"),
        ),
    ]
