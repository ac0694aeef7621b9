"""Reading APIC answers: the ``totalCount``/``imdata`` envelope, the managed objects in
it, and the distinguished names (dn) that say where each object sits in the fabric.

The classes discovery reads (APIC management information model):

- ``fabricNode`` (``topology/pod-1/node-101``): every node of the fabric, ``role``
  ``leaf``, ``spine`` or ``controller``.
- ``topSystem`` (``topology/pod-1/node-101/sys``): a node's system: ``address`` (its
  TEP address), ``oobMgmtAddr``, ``state``.
- ``l1PhysIf`` (``…/node-101/sys/phys-[eth1/33]``): a physical port: ``adminSt``, ``speed``.
- ``epmMacEp`` (``…/node-101/sys/ctx-[…]/bd-[…]/vlan-[…]/db-ep/mac-<MAC>``): a MAC address
  the leaf learned, on port ``ifId``.
- ``fvCEp`` (``uni/tn-…/ap-…/epg-…/cep-<MAC>``): a client endpoint of an EPG; its child
  ``fvRsCEpToPathEp`` names the port (``topology/pod-1/paths-101/pathep-[eth1/33]``).
- ``lldpAdjEp`` (``…/node-101/sys/lldp/inst/if-[eth1/49]/adj-1``): an LLDP neighbour seen
  on a port; for a fabric link ``portDesc`` is the peer's path endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from calipso_plugins_aci.errors import AciRequestFailed, AciResponseError

_NODE = re.compile(r"^(topology/pod-\d+/node-\d+)(?:/|$)")
_PATH_EP = re.compile(r"^topology/(pod-\d+)/paths-(\d+)/pathep-\[([^\]]+)\]$")
_LLDP_PORT = re.compile(r"/if-\[([^\]]+)\]/adj-")


# --- the envelope ---------------------------------------------------------------------------


def imdata(body: Any, url: str) -> tuple[int, list[dict]]:
    """``(totalCount, imdata)`` of an answer; an ``error`` object in it is raised as
    ``AciRequestFailed`` (with the APIC's code and text)."""
    if not isinstance(body, dict) or not isinstance(body.get("imdata"), list):
        raise AciResponseError(url, f"APIC answer to {url} has no imdata list")
    items = body["imdata"]
    error = api_error(body)
    if error is not None:
        code, text = error
        raise AciRequestFailed(url, f"APIC refused {url}: error {code}: {text}", code=code, text=text)
    try:
        total = int(body.get("totalCount", len(items)))
    except (TypeError, ValueError):
        raise AciResponseError(url, f"APIC answer to {url} has a totalCount that is not a number: "
                                    f"{body.get('totalCount')!r}") from None
    for index, item in enumerate(items):
        if not isinstance(item, dict) or len(item) != 1:
            raise AciResponseError(url, f"APIC answer to {url}: imdata[{index}] is not one managed object")
    return total, items


def api_error(body: Any) -> tuple[str, str] | None:
    """The ``(code, text)`` of an ``error`` object in an answer's ``imdata``, if any."""
    items = body.get("imdata") if isinstance(body, dict) else None
    if items and isinstance(items[0], dict) and "error" in items[0]:
        attributes = items[0]["error"].get("attributes", {})
        return str(attributes.get("code", "")), str(attributes.get("text", ""))
    return None


def class_of(item: dict) -> str:
    return next(iter(item))


def attributes(item: dict) -> dict[str, str]:
    """The attributes of one ``imdata`` item (``{class: {"attributes": {...}}}``)."""
    return dict(item[class_of(item)].get("attributes", {}))


def children(item: dict, cls: str) -> list[dict[str, str]]:
    """The attributes of an item's children of class ``cls`` (``rsp-subtree=children``)."""
    found = item[class_of(item)].get("children", [])
    return [dict(child[cls].get("attributes", {})) for child in found if cls in child]


def of_class(items: list[dict], cls: str) -> list[dict]:
    return [item for item in items if class_of(item) == cls]


# --- distinguished names --------------------------------------------------------------------


def node_dn(dn: str) -> str | None:
    """``topology/pod-1/node-103`` for any dn under that node, else None."""
    match = _NODE.match(dn)
    return match.group(1) if match else None


def path_endpoint(tdn: str) -> tuple[str, str] | None:
    """``(node dn, port)`` of a path endpoint ``topology/pod-1/paths-103/pathep-[eth1/33]``."""
    match = _PATH_EP.match(tdn)
    if not match:
        return None
    pod, node, port = match.groups()
    return f"topology/{pod}/node-{node}", port


def encode_dn(dn: str) -> str:
    """A dn as an id part, as the original Calipso wrote it: ``topology/`` dropped and
    ``/`` turned into ``__`` (``pod-1__node-103``)."""
    return dn.removeprefix("topology/").replace("/", "__")


def switch_id(node: str, role: str) -> str:
    """``switch-pod-1__node-103-leaf``."""
    return f"switch-{encode_dn(node)}-{role}"


def port_id(switch: str, port: str, mac: str | None = None) -> str:
    """``<switch id>-eth1__33`` for a fabric port, ``<switch id>-eth1__33-<mac>`` for a
    port where a host's MAC address was learned."""
    base = f"{switch}-{encode_dn(port)}"
    return f"{base}-{mac}" if mac else base


def mac_key(mac: str) -> str:
    """MAC addresses compare in lower case (the APIC writes them in upper case)."""
    return mac.lower()


# --- the objects discovery reads ------------------------------------------------------------


@dataclass(frozen=True)
class FabricNode:
    dn: str
    node_id: str
    name: str
    role: str
    attributes: dict[str, str]

    @classmethod
    def parse(cls, item: dict) -> FabricNode:
        a = attributes(item)
        return cls(a["dn"], a.get("id", ""), a.get("name", ""), a.get("role", ""), a)


@dataclass(frozen=True)
class MacEndpoint:
    """A MAC address learned by a leaf on a port."""

    node: str
    mac: str
    port: str
    attributes: dict[str, str]

    @classmethod
    def parse(cls, item: dict) -> MacEndpoint | None:
        a = attributes(item)
        node = node_dn(a.get("dn", ""))
        if node is None or not a.get("addr") or not a.get("ifId"):
            return None
        return cls(node, mac_key(a["addr"]), a["ifId"], a)


@dataclass(frozen=True)
class ClientEndpoint:
    """An EPG's client endpoint, with the ports (node dn, port) it is attached to."""

    mac: str
    epg: str
    paths: tuple[tuple[str, str], ...]
    attributes: dict[str, str]

    @classmethod
    def parse(cls, item: dict) -> ClientEndpoint | None:
        a = attributes(item)
        if not a.get("mac") or "/cep-" not in a.get("dn", ""):
            return None
        paths = tuple(p for p in (path_endpoint(c.get("tDn", "")) for c in children(item, "fvRsCEpToPathEp")) if p)
        return cls(mac_key(a["mac"]), a["dn"].rsplit("/cep-", 1)[0], paths, a)


@dataclass(frozen=True)
class LldpNeighbour:
    """What a node's port sees over LLDP; ``peer_node``/``peer_port`` are set when the
    neighbour is a fabric node (its ``portDesc`` is a path endpoint)."""

    node: str
    port: str
    peer_node: str | None
    peer_port: str | None
    peer_name: str
    attributes: dict[str, str]

    @classmethod
    def parse(cls, item: dict) -> LldpNeighbour | None:
        a = attributes(item)
        dn = a.get("dn", "")
        node, local = node_dn(dn), _LLDP_PORT.search(dn)
        if node is None or local is None:
            return None
        peer = path_endpoint(a.get("portDesc", ""))
        if peer is None and node_dn(a.get("sysDesc", "")) and a.get("portIdV"):
            peer = (node_dn(a["sysDesc"]), a["portIdV"].lower())
        return cls(node, local.group(1), peer[0] if peer else None, peer[1] if peer else None,
                   a.get("sysName", ""), a)


@dataclass(frozen=True)
class PhysicalPort:
    node: str
    port: str
    attributes: dict[str, str]

    @classmethod
    def parse(cls, item: dict) -> PhysicalPort | None:
        a = attributes(item)
        node = node_dn(a.get("dn", ""))
        return cls(node, a["id"], a) if node and a.get("id") else None
