"""``/environment_configs``: read the environments (secrets always shown as ``****``)
and add one, validated against the core schema and the plugins' section schemas."""

from __future__ import annotations

from sqlalchemy import select

from calipso_core import environments as env_docs
from calipso_core.api.errors import conflict, not_found
from calipso_core.api.listing import environment_exists
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import STRING, STRINGS, obj
from calipso_core.api.validation import PAGING, Param
from calipso_core.errors import NotFound
from calipso_core.store.tables import environments
from calipso_core.types import Document

LIST_FIELDS = ("name", "distribution", "distribution_version", "environment_type")
DOC_FILTERS = ("distribution", "distribution_version", "type_drivers", "user", "listen", "scanned",
               "monitoring_setup_done", "operational", "environment_type")


def get_environment_configs(call: Call) -> Document | dict:
    params = call.params
    sections = call.calipso.config_sections
    if "name" in params:
        try:
            doc = call.calipso.environments.get(params["name"])
        except NotFound:
            raise not_found(f"no environment named {params['name']!r}") from None
        return env_docs.mask_secrets(doc, sections)
    match = {key: params[key] for key in DOC_FILTERS if key in params}
    if "mechanism_drivers" in params:
        match["mechanism_drivers"] = params["mechanism_drivers"]
    query = select(environments.c.doc).order_by(environments.c.name)
    if match:
        query = query.where(environments.c.doc.contains(match))
    with call.engine.connect() as conn:
        docs = list(conn.scalars(query.limit(call.limit).offset(call.offset)))
    return {"environment_configs": [{k: doc[k] for k in LIST_FIELDS if k in doc} for doc in docs]}


def post_environment_config(call: Call) -> dict:
    doc = dict(call.body)
    env_docs.validate(doc, call.calipso.config_sections)
    call.calipso.plugins.require(doc.get("plugins", []))
    if environment_exists(call.engine, doc["name"]):
        raise conflict(f"environment {doc['name']!r} exists already")
    doc.setdefault("environment_type", "OpenStack")
    doc.setdefault("scanned", False)
    call.calipso.environments.save(doc)
    return {"message": f"environment {doc['name']!r} added", "id": doc["name"]}


PARAMS = (
    Param("name", description="one environment, whole (secrets masked)"),
    Param("distribution"),
    Param("distribution_version"),
    Param("mechanism_drivers", many=True, constant="mechanism_drivers", description="using all of these"),
    Param("type_drivers", constant="type_drivers"),
    Param("user"),
    Param("listen", "boolean"),
    Param("scanned", "boolean"),
    Param("monitoring_setup_done", "boolean"),
    Param("operational", choices=("stopped", "running", "error")),
    Param("environment_type", choices=("OpenStack", "Kubernetes", "VMware", "Bare-metal")),
    *PAGING,
)

ENVIRONMENT_ITEM = obj(("name",), name=STRING, distribution=STRING, distribution_version=STRING,
                       environment_type=STRING)
ENVIRONMENT = obj(("name",), description="the environment, every secret shown as ****", name=STRING,
                  mechanism_drivers=STRINGS, configuration={"type": "array", "items": {"type": "object"}})

OPERATIONS = [
    Operation("GET", "/environment_configs", get_environment_configs, "Environments", params=PARAMS,
              response={"anyOf": [obj(("environment_configs",), environment_configs={
                  "type": "array", "items": ENVIRONMENT_ITEM}), ENVIRONMENT]}, errors=(400, 404)),
    Operation("POST", "/environment_configs", post_environment_config, "Add an environment",
              body_loader=lambda: env_docs.load_schema("environment"), status=201,
              response=obj(("message",), message=STRING, id=STRING), writes=True, errors=(400, 409)),
]
