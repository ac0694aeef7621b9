"""``/monitoring_config_templates``: the Sensu check templates, one per monitoring
check the installed plugins contribute (``calipso_monitoring_checks``). There is no
table for them: the plugins are their source, so they always match what is installed.
A template's id is its check's name."""

from __future__ import annotations

from calipso_core.api.errors import not_found
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import INTEGER, STRING, listing_or_document, obj
from calipso_core.api.validation import PAGING, Param
from calipso_core.plugins import CalipsoPluginManager
from calipso_core.types import Document, MonitoringCheck

SIDES = ("client", "server")
CHECK_ORDER = 1
LIST_FIELDS = ("id", "side", "type", "order")


def check_name_pattern(check: MonitoringCheck) -> str:
    """The Sensu check name of an object (or link) the check applies to."""
    if check.object_type == "link":
        return "link_{link_type}_{source_id}_{target_id}"
    return f"{check.object_type}_{{id}}"


def template_of(check: MonitoringCheck) -> Document:
    """The client-side Sensu template of one check."""
    return {
        "id": check.name,
        "side": "client",
        "type": f"client_check_{check.name}.json",
        "order": CHECK_ORDER,
        "monitoring_system": "sensu",
        "object_type": check.object_type,
        "condition": dict(check.condition),
        "description": check.description,
        "config": {"checks": {check_name_pattern(check): {
            "command": check.command, "interval": check.interval, "standalone": True, "type": "metric",
            "subscribers": ["base"], "handlers": ["calipso"]}}},
    }


def monitoring_config_templates(plugins: CalipsoPluginManager) -> list[Document]:
    """Every template, ordered by ``order`` then id."""
    templates = [template_of(check) for check in plugins.records("calipso_monitoring_checks").values()]
    return sorted(templates, key=lambda t: (t["order"], t["id"]))


def get_templates(call: Call) -> Document | dict:
    params = call.params
    templates = monitoring_config_templates(call.calipso.plugins)
    if "id" in params:
        found = [t for t in templates if t["id"] == params["id"]]
        if not found:
            raise not_found(f"no monitoring config template {params['id']!r}")
        return found[0]
    for key in ("order", "side", "type"):
        if key in params:
            templates = [t for t in templates if t[key] == params[key]]
    page = templates[call.offset: call.offset + call.limit]
    return {"monitoring_config_templates": [{k: t[k] for k in LIST_FIELDS} for t in page]}


PARAMS = (
    Param("id", description="one template (its check's name), whole"),
    Param("order", "integer", minimum=0, maximum=1000),
    Param("side", choices=SIDES),
    Param("type", description="the file name, e.g. client_check_vedge_ovs.json"),
    *PAGING,
)

TEMPLATE_ITEM = obj(("id", "side", "type"), id=STRING, side=STRING, type=STRING, order=INTEGER)

OPERATIONS = [
    Operation("GET", "/monitoring_config_templates", get_templates, "Monitoring configuration templates",
              params=PARAMS, response=listing_or_document("monitoring_config_templates", TEMPLATE_ITEM),
              errors=(400, 404)),
]
