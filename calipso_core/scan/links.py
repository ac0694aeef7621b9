"""The links phase: run every plugin's link finders over the stored inventory."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from calipso_core.errors import CalipsoError
from calipso_core.scan.context import ScanContext
from calipso_core.types import Document, LinkFinder

log = logging.getLogger(__name__)


@dataclass
class LinksResult:
    links: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (finder, message)

    def by_type(self) -> Counter:
        return Counter(link["link_type"] for link in self.links)

    def failed_types(self, finders: Iterable[LinkFinder]) -> set[str]:
        """The link types of the finders that failed: their stored links are kept."""
        failed = {name for name, _ in self.failures}
        return {t for finder in finders if finder.name in failed for t in finder.link_types}


def link_key(link: Document) -> tuple[str, str, str]:
    """What identifies a link: its type, source and target."""
    return link["link_type"], link["source_id"], link["target_id"]


def link(link_type: str, source: Document, target: Document, name: str, network: str | None = None,
         state: str = "up", **attributes) -> Document:
    """A link document for a link finder to return; ``network`` and the other attributes
    are kept when they have a value (clique constraints read ``network``)."""
    return {
        "link_type": link_type, "source_id": source["id"], "target_id": target["id"], "link_name": name,
        "host": source.get("host"), "state": state,
        "attributes": {k: v for k, v in {"network": network, **attributes}.items() if v is not None},
    }


def on_host(objects: Iterable[Document]) -> dict[str, list[Document]]:
    """Objects grouped by their ``host``."""
    hosts: dict[str, list[Document]] = defaultdict(list)
    for obj in objects:
        hosts[obj.get("host")].append(obj)
    return hosts


def vedges(ctx: ScanContext) -> list[Document]:
    """The vEdges without their tunnel ports (an OVS vEdge has one to every other host, and
    no link is found from them)."""
    return ctx.objects("vedge", without=("tunnel_ports",))


def oteps(ctx: ScanContext) -> list[Document]:
    """The OTEPs without their ports (their vEdge's tunnel ports)."""
    return ctx.objects("otep", without=("ports",))


def instance_vnic_links(ctx: ScanContext, of_instance: Callable[[Document], bool],
                        networks: Mapping[str, str | None]) -> list[Document]:
    """The ``instance-vnic`` links of the vNICs ``of_instance`` accepts, each named by the
    label its network (``networks``: by vNIC) has in its instance's network info, else
    by the vNIC's name."""
    instances = {i["id"]: i for i in ctx.objects("instance")}
    links = []
    for vnic in ctx.objects("vnic"):
        instance = instances.get(vnic.get("instance_id"))
        if of_instance(vnic) and instance:
            labels = {n["network"]["id"]: n["network"].get("label") for n in instance.get("network_info", [])}
            network = networks[vnic["id"]]
            links.append(link("instance-vnic", instance, vnic, labels.get(network) or vnic["name"], network))
    return links


def find_links(ctx: ScanContext, finders: list[LinkFinder]) -> LinksResult:
    """Every link the finders return, checked; a finder that fails is recorded and skipped."""
    result = LinksResult()
    seen: set[tuple[str, str, str]] = set()
    for finder in finders:
        try:
            found = list(finder.find(ctx))
        except DBAPIError:
            raise  # the database failed, not the finder: the caller's transaction is gone
        except Exception as error:  # noqa: BLE001 - recorded as the scan's error, the rest goes on
            text = str(error) if isinstance(error, CalipsoError) else f"{type(error).__name__}: {error}"
            result.failures.append((finder.name, text))
            continue
        for link in found:
            if link["link_type"] not in finder.link_types:
                result.failures.append((finder.name, f"returned a link of type {link['link_type']!r}, "
                                                     f"not one of {', '.join(finder.link_types)}"))
                continue
            key = link_key(link)
            if key not in seen:
                seen.add(key)
                result.links.append({"state": "up", "attributes": {}, "implicit": False, **link})
    return result
