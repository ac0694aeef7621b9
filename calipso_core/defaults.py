"""The core's own contributions, registered like any plugin under the name ``core``:
the root scanner, and the configuration sections of the parts the core runs itself
(SSH access to hosts, the message bus, monitoring)."""

from __future__ import annotations

from calipso_core import hookimpl
from calipso_core.types import ConfigSection, Scanner

_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
_HOST = {"type": "string", "minLength": 1}

CLI_SCHEMA = {
    "type": "object",
    "required": ["name", "host", "user"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "CLI"},
        "host": {"description": "the jump host (or, with no hosts map, the only host)", **_HOST},
        "port": _PORT,
        "user": {"type": "string", "minLength": 1},
        "pwd": {"type": "string"},
        "key": {"type": "string", "description": "path of a private key file"},
        "known_hosts": {"type": "string", "description": "file where host keys are recorded"},
        "jump": {"type": "boolean", "description": "reach the hosts through the jump host (default: when "
                                                  "there is a hosts map)"},
        "hosts": {
            "description": "per-host address and port, reached through the jump host",
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["host"],
                "properties": {"host": _HOST, "port": _PORT, "user": {"type": "string"}},
            },
        },
    },
    "anyOf": [{"required": ["pwd"]}, {"required": ["key"]}],
}

AMQP_SCHEMA = {
    "type": "object",
    "required": ["name", "host", "port", "user", "pwd"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "AMQP"},
        "host": _HOST,
        "port": _PORT,
        "user": {"type": "string"},
        "pwd": {"type": "string"},
        "virtual_host": {"type": "string"},
        "exchanges": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "topic": {"type": "string"},
        "durable_queues": {"type": "boolean"},
        "quorum_queues": {"type": "boolean"},
    },
}

MONITORING_SCHEMA = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "Monitoring"},
        "type": {"enum": ["Sensu", "Calipso"]},
        "server_ip": _HOST,
        "api_port": _PORT,
        "api_key": {"type": "string"},
        "interval": {"type": "integer", "minimum": 1},
    },
}


LAB_SCHEMA = {
    "type": "object",
    "required": ["name", "url", "token"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "Lab"},
        "url": {"type": "string", "pattern": "^http://(127\\.0\\.0\\.1|localhost):[0-9]+/?$"},
        "token": {"type": "string"},
    },
}


@hookimpl
def calipso_config_sections():
    return [
        ConfigSection("Lab", LAB_SCHEMA, secrets=("token",), description="the control API of a simulated lab"),
        ConfigSection("CLI", CLI_SCHEMA, description="SSH access to the hosts"),
        ConfigSection("AMQP", AMQP_SCHEMA, secrets=("pwd",), description="the cloud's message bus"),
        ConfigSection("Monitoring", MONITORING_SCHEMA, secrets=("api_key",), description="health checks"),
    ]


@hookimpl
def calipso_scanners():
    # The root every plugin hangs its scanners under (with ``extends="environment"``).
    return [Scanner(name="environment", fetch_types=())]
