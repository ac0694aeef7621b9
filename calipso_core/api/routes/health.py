"""``/health``: is the service and its database up, and how is each environment
(scanned, its last scan, its listener's state). Needs no token, for load balancers."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from calipso_core import __version__
from calipso_core.api.errors import CalipsoJSONResponse
from calipso_core.api.operation import Call, Operation
from calipso_core.api.responses import BOOLEAN, STRING, obj
from calipso_core.api.routes.scans import only_scans
from calipso_core.store.tables import environments, scans
from calipso_core.types import Document

log = logging.getLogger(__name__)
SCAN_FIELDS = ("id", "status", "submit_timestamp", "start_timestamp", "end_timestamp")


def _environments(conn) -> dict[str, Document]:
    newest_first = func.row_number().over(partition_by=scans.c.environment,
                                          order_by=(scans.c.submit_timestamp.desc(), scans.c.id.desc()))
    ranked = select(scans, newest_first.label("n")).where(only_scans()).subquery()
    last = select(ranked).where(ranked.c.n == 1)
    last_scans = {row.environment: {k: getattr(row, k) for k in SCAN_FIELDS} for row in conn.execute(last)}
    states = {}
    for name, doc in conn.execute(select(environments.c.name, environments.c.doc).order_by(environments.c.name)):
        states[name] = {"scanned": bool(doc.get("scanned", False)), "listen": bool(doc.get("listen", False)),
                        "operational": doc.get("operational", "stopped"), "last_scan": last_scans.get(name)}
    return states


def get_health(call: Call) -> CalipsoJSONResponse:
    try:
        with call.engine.connect() as conn:
            states = _environments(conn)
    except SQLAlchemyError as error:
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return CalipsoJSONResponse({"version": __version__, "status": "error", "database": {"ok": False},
                                    "environments": {}}, status_code=503)
    return CalipsoJSONResponse({"version": __version__, "status": "ok", "database": {"ok": True},
                                "environments": states})


ENVIRONMENT_STATE = obj(("scanned", "operational", "last_scan"), scanned=BOOLEAN, listen=BOOLEAN,
                        operational=STRING, last_scan={"type": ["object", "null"]})
HEALTH = obj(("version", "status", "database", "environments"), version=STRING, status={"enum": ["ok", "error"]},
             database=obj(("ok",), ok=BOOLEAN),
             environments={"type": "object", "additionalProperties": ENVIRONMENT_STATE})

OPERATIONS = [
    Operation("GET", "/health", get_health, "Service health", response=HEALTH, public=True, errors=(),
              other_responses={503: HEALTH}),
]
