"""The plugin contract: every hook a Calipso plugin may implement.

Each hook takes no arguments and returns a list of records from ``calipso_core.types``.
The plugin manager calls every hook once when it is built, collects the records of all
plugins, and refuses two records of the same kind with the same name. Implement a hook
with ``@calipso_core.hookimpl``::

    from calipso_core import hookimpl
    from calipso_core.types import ConfigSection

    @hookimpl
    def calipso_config_sections():
        return [ConfigSection(name="OpenStack", schema={...})]
"""

from __future__ import annotations

import pluggy

from calipso_core.types import (
    CliqueType,
    ConfigSection,
    EventHandler,
    Fetcher,
    LabService,
    LinkFinder,
    MonitoringCheck,
    Scanner,
)

hookspec = pluggy.HookspecMarker("calipso")


@hookspec
def calipso_fetchers() -> list[Fetcher]:
    """Fetchers, by name, that scanner entries may refer to.

    Called once when the plugin manager is built. Example:
    ``[Fetcher(name="openstack.networks", fetch=fetch_networks, source="api")]``.
    """


@hookspec
def calipso_scanners() -> list[Scanner]:
    """Scanner definitions: the tree a scan walks from the environment down.

    Called once when the plugin manager is built; the merged tree (scanners plus the
    ``extends`` of other plugins) is validated against ``schemas/scanners.json`` and
    checked for unknown fetchers, unknown children and cycles before any scan runs.
    The root scanner is named ``environment``.
    """


@hookspec
def calipso_link_finders() -> list[LinkFinder]:
    """Link finders, run in registration order after a scan's inventory phase.

    Example: ``[LinkFinder(name="instance-vnic", link_types=("instance-vnic",),
    find=find_instance_vnic_links)]``.
    """


@hookspec
def calipso_event_handlers() -> list[EventHandler]:
    """Handlers of cloud notifications, each for one or more ``event_types``.

    Called once when the listener starts; an event type with no handler becomes a
    message record. Example: ``EventHandler(name="port", event_types=("port.create.end",),
    handle=handle_port_create)``.
    """


@hookspec
def calipso_monitoring_checks() -> list[MonitoringCheck]:
    """Health checks per object type, rendered as Sensu Go checks or run by Calipso."""


@hookspec
def calipso_clique_types() -> list[CliqueType]:
    """Default clique types (with their constraints), seeded into the database.

    Called when the database is set up and when cliques are built; types stored by
    users through the API take part in the same scoring.
    """


@hookspec
def calipso_config_sections() -> list[ConfigSection]:
    """JSON Schemas for sections of an environment's ``configuration`` list.

    Called when an environment document is validated (``calipso env add``, the API):
    each section is checked against the schema registered under its ``name``.
    """


@hookspec
def calipso_lab_services() -> list[LabService]:
    """Parts of the simulated data centre started by ``calipso lab serve``.

    Each service's ``start(lab)`` is called once the lab's model and shared servers
    exist; the lab stops them in reverse order.
    """


#: The hook names, in the order ``calipso plugins`` shows them.
HOOK_NAMES = (
    "calipso_fetchers",
    "calipso_scanners",
    "calipso_link_finders",
    "calipso_event_handlers",
    "calipso_monitoring_checks",
    "calipso_clique_types",
    "calipso_config_sections",
    "calipso_lab_services",
)
