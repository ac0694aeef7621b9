"""Neutron's JSON for the lab's networks, subnets, ports, routers and agents.

Every resource carries both ``project_id`` and ``tenant_id`` (the SDK reads only the
first for networks), the standard attributes (``created_at``, ``updated_at``,
``revision_number``, ``tags``, ``description``) and the extension fields of a current
ML2 deployment. Agents' times use Neutron's ``YYYY-MM-DD HH:MM:SS``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from calipso_core.lab.model import LabModel
from calipso_core.lab.records import Agent, Network, Port, Router, Subnet


def default_security_group(project_id: str) -> str:
    """The id of a project's ``default`` security group (stable for a project)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"security-group/default/{project_id}"))


def _standard(record, body: dict) -> dict:
    body.update({"description": "", "tags": [], "created_at": record.created_at, "updated_at": record.updated_at,
                 "revision_number": record.revision})
    return body


def network_dict(network: Network) -> dict:
    body = {
        "id": network.id, "name": network.name, "tenant_id": network.project_id, "project_id": network.project_id,
        "admin_state_up": network.admin_state_up, "mtu": network.mtu, "status": network.status,
        "subnets": list(network.subnet_ids), "shared": network.shared, "availability_zone_hints": [],
        "availability_zones": ["nova"], "ipv4_address_scope": None, "ipv6_address_scope": None,
        "router:external": network.external, "port_security_enabled": True, "qos_policy_id": None,
        "is_default": network.external, "l2_adjacency": True, "dns_domain": "",
        "provider:network_type": network.network_type, "provider:physical_network": network.physical_network,
        "provider:segmentation_id": network.segmentation_id,
    }
    return _standard(network, body)


def subnet_dict(subnet: Subnet) -> dict:
    body = {
        "id": subnet.id, "name": subnet.name, "tenant_id": subnet.project_id, "project_id": subnet.project_id,
        "network_id": subnet.network_id, "ip_version": subnet.ip_version, "subnetpool_id": None,
        "enable_dhcp": subnet.enable_dhcp, "ipv6_ra_mode": None, "ipv6_address_mode": None,
        "gateway_ip": subnet.gateway_ip, "cidr": subnet.cidr,
        "allocation_pools": [{"start": subnet.allocation_start, "end": subnet.allocation_end}],
        "host_routes": [], "dns_nameservers": list(subnet.dns_nameservers), "service_types": [],
        "segment_id": None, "dns_publish_fixed_ip": False,
    }
    return _standard(subnet, body)


def port_dict(model: LabModel, port: Port) -> dict:
    compute = port.device_owner.startswith("compute:")
    body = {
        "id": port.id, "name": port.name, "network_id": port.network_id, "tenant_id": port.project_id,
        "project_id": port.project_id, "mac_address": port.mac, "admin_state_up": port.admin_state_up,
        "status": port.status, "device_id": port.device_id, "device_owner": port.device_owner,
        "fixed_ips": [{"subnet_id": s, "ip_address": a} for s, a in port.fixed_ips],
        "allowed_address_pairs": [], "extra_dhcp_opts": [],
        "security_groups": [default_security_group(port.project_id)] if compute or not port.device_owner else [],
        "binding:vnic_type": "normal", "binding:profile": {}, "binding:host_id": port.host,
        "binding:vif_type": port.vif_type, "binding:vif_details": model.vif_details(port),
        "port_security_enabled": compute or not port.device_owner, "qos_policy_id": None,
        "qos_network_policy_id": None, "dns_name": "", "dns_assignment": [], "ip_allocation": "immediate",
        "resource_request": None, "propagate_uplink_status": False,
    }
    return _standard(port, body)


def router_dict(model: LabModel, router: Router) -> dict:
    gateway = None
    if router.gateway_port_id and router.gateway_port_id in model.ports:
        port = model.ports[router.gateway_port_id]
        gateway = {"network_id": router.gateway_network_id, "enable_snat": True,
                   "external_fixed_ips": [{"subnet_id": s, "ip_address": a} for s, a in port.fixed_ips]}
    body = {
        "id": router.id, "name": router.name, "tenant_id": router.project_id, "project_id": router.project_id,
        "admin_state_up": router.admin_state_up, "status": router.status, "external_gateway_info": gateway,
        "routes": [], "distributed": False, "ha": False, "availability_zone_hints": [],
        "availability_zones": ["nova"], "flavor_id": None, "enable_ndp_proxy": False,
    }
    return _standard(router, body)


def neutron_time(iso_z: str | datetime) -> str:
    if isinstance(iso_z, datetime):
        return iso_z.strftime("%Y-%m-%d %H:%M:%S")
    return iso_z.replace("T", " ").rstrip("Z")


def agent_dict(model: LabModel, agent: Agent, now: datetime) -> dict:
    return {
        "id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary, "topic": agent.topic,
        "host": agent.host, "admin_state_up": agent.admin_state_up, "alive": agent.alive,
        "availability_zone": agent.availability_zone, "description": None, "created_at": neutron_time(agent.created_at),
        "started_at": neutron_time(agent.created_at), "resources_synced": None, "ha_state": None,
        "heartbeat_timestamp": neutron_time(now - timedelta(seconds=7 if agent.alive else 3600)),
        "configurations": model.agent_configurations(agent),
    }
