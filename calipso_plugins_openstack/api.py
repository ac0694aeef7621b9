"""The OpenStack APIs as discovery reads them: whole collections, once per scan.

openstacksdk authenticates, finds the endpoints and negotiates versions; the lists are
read through each service's raw adapter (``conn.compute.get(...)``) and paged by their
``<collection>_links``, because building SDK resource objects costs milliseconds each,
which at 20,000 servers is minutes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import openstack
from keystoneauth1 import exceptions as ks_exceptions

from calipso_core.db import loads
from calipso_core.errors import CalipsoError
from calipso_core.scan.context import ScanContext

log = logging.getLogger(__name__)

PAGE = 1000
NOVA_MICROVERSION = "2.1"

# name -> (service, path, collection key)
COLLECTIONS: dict[str, tuple[str, str, str]] = {
    "regions": ("identity", "/regions", "regions"),
    "projects": ("identity", "/projects", "projects"),
    "servers": ("compute", "/servers/detail?all_tenants=1", "servers"),
    "hypervisors": ("compute", "/os-hypervisors/detail", "hypervisors"),
    "availability_zones": ("compute", "/os-availability-zone/detail", "availabilityZoneInfo"),
    "aggregates": ("compute", "/os-aggregates", "aggregates"),
    "services": ("compute", "/os-services", "services"),
    "networks": ("network", "/networks", "networks"),
    "subnets": ("network", "/subnets", "subnets"),
    "ports": ("network", "/ports", "ports"),
    "routers": ("network", "/routers", "routers"),
    "agents": ("network", "/agents", "agents"),
}


#: A request that could not connect, or was answered with one of these statuses (too many
#: requests, or a proxy or service briefly down), is sent again up to ``RETRIES`` times,
#: 0.5 s later, then 1 s, then 2 s (keystoneauth's back-off).
RETRIES = 3
RETRIABLE_STATUS_CODES = [429, 502, 503, 504]


class OpenStackError(CalipsoError):
    """Raised when an OpenStack API cannot be reached or answers with an error; the
    message names the service and the request."""


class OpenStackApi:
    """One authenticated connection to a cloud, built from its ``OpenStack`` section."""

    def __init__(self, section: dict[str, Any], region: str | None = None, timeout: float = 60.0):
        protocol = section.get("protocol", "http")
        self.auth_url = f"{protocol}://{section['host']}:{section['port']}{section.get('path', '')}/v3"
        self.conn = openstack.connect(
            auth_url=self.auth_url,
            username=section["user"],
            password=section["pwd"],
            project_name=section.get("admin_project", "admin"),
            user_domain_name=section.get("user_domain", "Default"),
            project_domain_name=section.get("project_domain", "Default"),
            region_name=region or section.get("region"),
            verify=section.get("cacert", True),
            api_timeout=timeout,
            connect_retries=RETRIES,
            status_code_retries=RETRIES,
            retriable_status_codes=RETRIABLE_STATUS_CODES,
            app_name="calipso",
            load_yaml_config=False,
            load_envvars=False,
        )

    def list(self, service: str, path: str, key: str) -> list[dict]:
        """Every item of a collection, following the API's next links."""
        adapter = getattr(self.conn, service)
        extra = {"microversion": NOVA_MICROVERSION} if service == "compute" else {}
        items: list[dict] = []
        url = path
        while url:
            try:
                response = adapter.get(url, **extra)
            except ks_exceptions.ClientException as error:
                raise OpenStackError(f"{service} GET {url} failed: {error}") from error
            if response.status_code >= 400:
                raise OpenStackError(f"{service} GET {url} answered {response.status_code}: {response.text[:200]}")
            try:
                body = loads(response.content)  # orjson: 4,000 servers' details are megabytes
            except ValueError as error:
                raise OpenStackError(f"{service} GET {url} answered what is not JSON: {error}") from error
            items.extend(body.get(key) or [])
            url = next((link["href"] for link in body.get(f"{key}_links", []) if link.get("rel") == "next"), None)
        return items

    def close(self) -> None:
        self.conn.close()


IDENTITY = {"regions", "projects"}


def api(ctx: ScanContext, region: str | None = None) -> OpenStackApi:
    """The connection for ``region`` (Keystone's collections need none)."""
    return ctx.client(f"openstack:{region}", lambda c: OpenStackApi(c.section("OpenStack"), region))


def collection(ctx: ScanContext, name: str, region: str | None = None) -> list[dict]:
    """A whole collection (see ``COLLECTIONS``) of a region, read once per scan."""
    service, path, key = COLLECTIONS[name]
    region = None if name in IDENTITY else region
    return ctx.cached(("openstack", name, region), lambda: api(ctx, region).list(service, path, key))


def grouped(ctx: ScanContext, name: str, field: str, region: str | None = None) -> dict[Any, list[dict]]:
    """A collection grouped by one field, computed once per scan."""

    def group():
        groups: dict[Any, list[dict]] = defaultdict(list)
        for item in collection(ctx, name, region):
            groups[item.get(field)].append(item)
        return dict(groups)

    return ctx.cached(("openstack", name, region, "by", field), group)


def by_id(ctx: ScanContext, name: str, region: str | None = None) -> dict[str, dict]:
    return ctx.cached(("openstack", name, region, "by-id"),
                      lambda: {item["id"]: item for item in collection(ctx, name, region)})
