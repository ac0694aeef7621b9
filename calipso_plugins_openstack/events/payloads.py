"""What the handlers need from Nova's and Neutron's notifications, checked.

Nova sends an instance either in its legacy flat payload (``instance_id``, ``host``,
``display_name``, ``state``, ``old_state``…) or, in its versioned notifications, inside
``nova_object.data`` (``uuid``, ``host``, ``display_name``, ``state_update``…). Neutron
sends its API body wrapped in the resource name (``{"port": {...}}``), and for a delete
``{"<resource>_id": id}``. A field the handlers need that is missing or of the wrong kind
is an ``EventError`` naming it; fields they do not use are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calipso_core.events import EventError

NOVA_DATA = "nova_object.data"


def text(body: Mapping, field: str, what: str, related: str | None = None, related_type: str | None = None) -> str:
    """A required non-empty string field."""
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if value is None else f"not a non-empty string ({type(value).__name__})"
        raise EventError(f"{what} {field} is {shown}", related, related_type)
    return value


def optional_text(body: Mapping, field: str, what: str, related: str | None = None) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventError(f"{what} {field} is a {type(value).__name__}, not a string", related)
    return value


def mapping(body: Mapping, field: str, what: str, related: str | None = None) -> dict:
    value = body.get(field)
    if not isinstance(value, dict):
        shown = "missing" if value is None else f"a {type(value).__name__}, not an object"
        raise EventError(f"{what} {field} is {shown}", related)
    return value


@dataclass(frozen=True)
class InstanceNote:
    """An instance as a Nova notification describes it."""

    id: str
    host: str | None
    name: str | None
    old_name: str | None
    state: str | None
    old_state: str | None


def instance_note(payload: Mapping[str, Any]) -> InstanceNote:
    if NOVA_DATA in payload:
        data = mapping(payload, NOVA_DATA, "payload")
        instance_id = text(data, "uuid", "instance", related_type="instance")
        update = data.get("state_update") if isinstance(data.get("state_update"), dict) else {}
        update = update.get(NOVA_DATA) if isinstance(update.get(NOVA_DATA), dict) else {}
        return InstanceNote(instance_id, optional_text(data, "host", "instance", instance_id),
                            optional_text(data, "display_name", "instance", instance_id),
                            optional_text(data, "old_display_name", "instance", instance_id),
                            optional_text(data, "state", "instance", instance_id),
                            optional_text(update, "old_state", "instance", instance_id))
    instance_id = text(payload, "instance_id", "instance", related_type="instance")
    return InstanceNote(instance_id, optional_text(payload, "host", "instance", instance_id),
                        optional_text(payload, "display_name", "instance", instance_id),
                        optional_text(payload, "old_display_name", "instance", instance_id),
                        optional_text(payload, "state", "instance", instance_id),
                        optional_text(payload, "old_state", "instance", instance_id))


def resource(payload: Mapping[str, Any], name: str) -> dict:
    """The Neutron body of a create or update (``{"<name>": {...}}``) with its ``id``."""
    body = mapping(payload, name, "payload")
    text(body, "id", name, related_type=name)
    return body


def deleted_id(payload: Mapping[str, Any], name: str) -> str:
    """The id of a deleted Neutron resource: ``<name>_id``, else the body's ``id``."""
    if f"{name}_id" in payload:
        return text(payload, f"{name}_id", "payload", related_type=name)
    return text(resource(payload, name), "id", name, related_type=name)


def deleted_body(payload: Mapping[str, Any], name: str) -> dict:
    """The body Neutron sends along with a delete in current releases ({} when absent)."""
    body = payload.get(name)
    return body if isinstance(body, dict) else {}


def port_body(payload: Mapping[str, Any]) -> dict:
    body = resource(payload, "port")
    port_id = body["id"]
    text(body, "network_id", "port", port_id, "port")
    optional_text(body, "binding:host_id", "port", port_id)
    optional_text(body, "device_owner", "port", port_id)
    if not isinstance(body.get("fixed_ips", []), list):
        raise EventError(f"port fixed_ips is a {type(body['fixed_ips']).__name__}, not a list", port_id, "port")
    return body


def network_body(payload: Mapping[str, Any]) -> dict:
    body = resource(payload, "network")
    network_id = body["id"]
    if not isinstance(body.get("name", ""), str):
        raise EventError(f"network name is a {type(body['name']).__name__}, not a string", network_id, "network")
    if not isinstance(body.get("subnets", []), list):
        raise EventError(f"network subnets is a {type(body['subnets']).__name__}, not a list", network_id, "network")
    text(body, "tenant_id" if "tenant_id" in body and "project_id" not in body else "project_id", "network",
         network_id, "network")
    return body


def router_interface(payload: Mapping[str, Any]) -> dict:
    """``router_interface``: the router ``id``, ``port_id`` and ``subnet_id``."""
    body = mapping(payload, "router_interface", "payload")
    router_id = text(body, "id", "router_interface", related_type="router")
    text(body, "port_id", "router_interface", router_id, "router")
    return body


def publisher_host(publisher_id: str) -> str | None:
    """The host a notification comes from: ``network.<host>``, ``compute.<host>``,
    ``nova-compute:<host>``."""
    for separator in (":", "."):
        service, found, host = publisher_id.partition(separator)
        if found and host and service in ("network", "compute", "nova-compute", "neutron-server"):
            return host
    return None
