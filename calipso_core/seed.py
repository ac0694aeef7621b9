"""The data a new database starts with: constants, and the clique types and constraints
the plugins contribute. Seeding is idempotent and keeps what users added."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from calipso_core.store.tables import clique_constraints, clique_types, constants

OBJECT_TYPES = (
    "environment", "region", "availability_zone", "aggregate", "host_ref", "project", "host",
    "instance", "network", "port", "vservice", "vnic", "vconnector", "vedge", "otep",
    "host_pnic", "network_agent", "switch", "switch_pnic",
)
LINK_TYPES = (
    "instance-vnic", "vservice-vnic", "vnic-vconnector", "vconnector-host_pnic", "vnic-vedge",
    "vconnector-vedge", "vedge-host_pnic", "vedge-otep", "otep-vconnector", "otep-host_pnic",
    "host_pnic-network", "host_pnic-switch_pnic", "switch-switch_pnic", "switch_pnic-switch_pnic",
)

CONSTANTS: dict[str, tuple[str, ...]] = {
    "object_types": OBJECT_TYPES,
    "link_types": LINK_TYPES,
    "link_states": ("up", "down"),
    "scans_statuses": ("draft", "pending", "running", "completed", "completed_with_errors", "failed", "aborted"),
    "scan_frequencies": ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"),
    "log_levels": ("critical", "error", "warning", "info", "debug", "notset"),
    "messages_severity": ("panic", "alert", "critical", "error", "warn", "notify", "info", "debug"),
    "environment_types": ("OpenStack", "Kubernetes", "VMware", "Bare-metal"),
    "distributions": ("Mirantis", "RDO", "Devstack", "Canonical", "Apex", "Packstack", "Stratoscale",
                      "Mercury", "Kolla", "Calipso-lab"),
    "mechanism_drivers": ("OVS", "VPP", "LXB", "Arista", "Nexus", "SRIOV"),
    "type_drivers": ("local", "vlan", "vxlan", "gre", "flat"),
    "configuration_targets": ("AMQP", "CLI", "ACI", "OpenStack", "Monitoring"),
    "monitoring_check_statuses": ("OK", "Warning", "Error"),
    "constraints": ("network",),
}


def seed_defaults(engine: Engine, plugins) -> int:
    """Write the constants and the plugins' clique types; returns how many rows."""
    constant_rows = [
        {"name": name, "doc": {"name": name, "data": [{"value": v, "label": v} for v in values]}}
        for name, values in CONSTANTS.items()
    ]
    type_rows, constraint_rows = [], {}
    for record in plugins.records("calipso_clique_types").values():
        doc = asdict(record)
        type_rows.append({"name": record.name, "focal_point_type": record.focal_point_type,
                          "environment": "", "origin": "default", "doc": doc})
        if record.constraints:
            constraint_rows[record.focal_point_type] = {
                "focal_point_type": record.focal_point_type, "environment": "",
                "doc": {"focal_point_type": record.focal_point_type, "constraints": list(record.constraints)},
            }
    with engine.begin() as conn:
        stmt = insert(constants)
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"doc": stmt.excluded.doc}),
                     constant_rows)
        if type_rows:
            stmt = insert(clique_types)
            conn.execute(stmt.on_conflict_do_update(
                constraint="uq_clique_types_name", set_={"doc": stmt.excluded.doc}), type_rows)
        if constraint_rows:
            stmt = insert(clique_constraints)
            conn.execute(stmt.on_conflict_do_update(
                constraint="uq_clique_constraints", set_={"doc": stmt.excluded.doc}),
                list(constraint_rows.values()))
    return len(constant_rows) + len(type_rows) + len(constraint_rows)
