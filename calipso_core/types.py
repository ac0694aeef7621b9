"""The records that plugins return from their hooks.

Every record is a small frozen dataclass with a ``name`` that is unique across all
installed plugins (the plugin manager refuses duplicates, naming both distributions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A document as stored in the inventory, links or cliques: a JSON-able dict.
Document = dict[str, Any]


@dataclass(frozen=True)
class Fetcher:
    """Gets the objects of one kind from one source.

    ``fetch(ctx, parent)`` receives the scan context (environment, clients, store) and the
    parent object document and returns the child object documents (each with at least
    ``id`` and ``name``; the engine fills ``type``, paths, ``parent_*``, ``environment``).
    ``source`` names the pool the engine runs it in: ``api``, ``cli`` or ``rest``.
    """

    name: str
    fetch: Callable[[Any, Document], Iterable[Document]]
    source: str = "api"
    description: str = ""


@dataclass(frozen=True)
class Folder:
    """A folder object created by the engine itself: id ``<parent id>-<types_name>``."""

    types_name: str
    text: str = ""


@dataclass(frozen=True)
class FetchType:
    """One entry of a scanner: which fetcher (or folder) yields which object type.

    ``environment_condition`` restricts the entry to matching environments, e.g.
    ``{"mechanism_drivers": ["OVS"], "aci_enabled": True}``.
    """

    type: str
    fetcher: str | None = None
    folder: Folder | None = None
    children_scanner: str | None = None
    environment_condition: Mapping[str, Any] = field(default_factory=dict)
    object_id_to_use_in_child: str | None = None


@dataclass(frozen=True)
class Scanner:
    """A named list of fetch types.

    With ``extends`` set, the fetch types are appended to the scanner of that name
    (which another plugin may own): that is how ACI hangs its switch ports under the
    OpenStack host pNICs.
    """

    name: str
    fetch_types: tuple[FetchType, ...]
    extends: str | None = None


@dataclass(frozen=True)
class LinkFinder:
    """Creates links of the given types after the inventory phase of a scan.

    ``find(ctx)`` returns link documents (``source_id``, ``target_id``, ``link_type``,
    ``link_name``, optional ``state``, ``host``, ``attributes``).
    """

    name: str
    link_types: tuple[str, ...]
    find: Callable[[Any], Iterable[Document]]
    description: str = ""


@dataclass(frozen=True)
class EventHandler:
    """Applies one kind of notification to the inventory.

    ``handle(ctx, event)`` runs inside the listener's database transaction; it must be
    idempotent and must ignore events older than what is stored.
    """

    name: str
    event_types: tuple[str, ...]
    handle: Callable[[Any, Any], Any]
    description: str = ""


@dataclass(frozen=True)
class MonitoringCheck:
    """A health check for objects of one type (or for links, ``object_type='link'``).

    ``command`` is run on the object's host; ``{placeholders}`` are filled from the
    object document. Check names follow ``<type>_<id>`` / ``link_<type>_<src>_<tgt>``.
    """

    name: str
    object_type: str
    command: str
    condition: Mapping[str, Any] = field(default_factory=dict)
    interval: int = 15
    description: str = ""


@dataclass(frozen=True)
class CliqueType:
    """How to build the clique of a focal point: the link types to walk, in order.

    The fields ``environment`` .. ``type_drivers`` scope the type; the best-scoring type
    for an environment wins. ``constraints`` are attributes (e.g. ``network``) whose
    value on a link must match the focal point's for the walk to cross it.
    """

    name: str
    focal_point_type: str
    link_types: tuple[str, ...]
    environment: str = "ANY"
    environment_type: str = ""
    distribution: str = ""
    distribution_version: str = ""
    mechanism_drivers: tuple[str, ...] = ()
    type_drivers: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    use_implicit_links: bool = False


@dataclass(frozen=True)
class ConfigSection:
    """The JSON Schema of one section of an environment's ``configuration`` list.

    ``secrets`` are the fields never shown or returned (masked as ``****``).
    """

    name: str
    schema: Mapping[str, Any]
    secrets: tuple[str, ...] = ("pwd", "key", "token", "admin_token")
    description: str = ""


@dataclass(frozen=True)
class LabService:
    """A part of the simulated data centre.

    ``start(lab)`` receives the lab being started (``calipso_core.lab.serve.Lab``: its
    model and options); it may add configuration sections (``lab.add_section``) and host
    commands (``lab.add_host_commands``), starts whatever the part serves and
    returns an object with a ``stop()`` method (or None when it started nothing).
    ``truth(model, env_name)`` returns the part's ground truth (a
    ``calipso_core.lab.truth.Truth``).
    """

    name: str
    start: Callable[[Any], Any]
    truth: Callable[[Any, str], Any] | None = None
    description: str = ""
