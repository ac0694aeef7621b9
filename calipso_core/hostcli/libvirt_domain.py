"""``virsh dumpxml ID``: a libvirt domain's XML, and many of them one after another.

The parser reads what Calipso uses: the domain's type, id, name, uuid, memory, vCPUs,
Nova's metadata (display name, flavor, owner) and every ``<interface>`` (the instance's
vNICs). :mod:`calipso_core.hostcli.libvirt_xml` writes them back in libvirt's layout.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import numbered_lines

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.0"
_N = "{" + NOVA_NS + "}"
_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "KiB": 1, "k": 1, "MiB": 1024, "M": 1024, "GiB": 1024**2, "G": 1024**2}


def virsh_dumpxml(domain: str | int) -> str:
    return f"virsh dumpxml {domain}"


@dataclass(frozen=True, slots=True)
class DomainInterface:
    """One ``<interface>`` of a domain: a vNIC. ``source`` holds the attributes of
    ``<source>`` (``bridge``, or ``type``/``path``/``mode`` of a vhost-user socket)."""

    type: str
    mac: str | None = None
    source: Mapping[str, str] = field(default_factory=dict)
    target_dev: str | None = None
    model: str | None = None
    driver: str | None = None
    alias: str | None = None
    address: Mapping[str, str] = field(default_factory=dict)
    virtualport_type: str | None = None
    virtualport_parameters: Mapping[str, str] = field(default_factory=dict)
    mtu: int | None = None

    @property
    def source_bridge(self) -> str | None:
        return self.source.get("bridge")

    @property
    def interface_id(self) -> str | None:
        """The Neutron port id Open vSwitch knows the vNIC by, if the XML names it."""
        return self.virtualport_parameters.get("interfaceid")

    def as_libvirt_dict(self) -> dict[str, Any]:
        """The interface as the original Calipso stored it (attributes as ``@name`` keys)."""
        doc: dict[str, Any] = {"@type": self.type}
        simple = {"mac": ("address", self.mac), "target": ("dev", self.target_dev), "model": ("type", self.model),
                  "driver": ("name", self.driver), "alias": ("name", self.alias)}
        for tag, (attribute, value) in simple.items():
            if value is not None:
                doc[tag] = {"@" + attribute: value}
        for tag, attributes in (("source", self.source), ("address", self.address)):
            if attributes:
                doc[tag] = {"@" + k: v for k, v in attributes.items()}
        return doc


@dataclass(frozen=True, slots=True)
class NovaMetadata:
    """What Nova writes into ``<metadata>``: the instance's display name, flavor, owner."""

    name: str | None = None
    package_version: str | None = None
    creation_time: str | None = None
    flavor_name: str | None = None
    flavor: Mapping[str, str] = field(default_factory=dict)
    user_uuid: str | None = None
    user_name: str | None = None
    project_uuid: str | None = None
    project_name: str | None = None
    root_type: str | None = None
    root_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class Domain:
    """A libvirt domain: ``id`` None when it is not running; ``type`` the hypervisor."""

    name: str
    uuid: str
    id: int | None = None
    type: str = "kvm"
    memory_kib: int | None = None
    vcpus: int | None = None
    nova: NovaMetadata | None = None
    interfaces: tuple[DomainInterface, ...] = ()


def parse_dumpxml(text: str, command: str = "virsh dumpxml") -> Domain:
    """The one domain in ``virsh dumpxml`` output."""
    domains = parse_domains(text, command)
    if len(domains) != 1:
        raise ParseError(command, f"expected one <domain> document, found {len(domains)}")
    return domains[0]


def parse_domains(text: str, command: str = "virsh dumpxml") -> tuple[Domain, ...]:
    """Every ``<domain>`` document in ``text``, printed one after another."""
    domains: list[Domain] = []
    chunk: list[str] = []
    start = 0
    for number, line in numbered_lines(text):
        if not chunk and not line.strip():
            continue
        if not chunk:
            if not line.lstrip().startswith("<domain"):
                raise ParseError(command, "text outside a <domain> document", number, line)
            start = number
        chunk.append(line)
        if line.rstrip().endswith("</domain>"):
            domains.append(_parse_document(command, start, chunk))
            chunk = []
    if chunk:
        raise ParseError(command, "<domain> document without '</domain>'", start, chunk[0])
    return tuple(domains)


def _parse_document(command: str, start: int, lines: list[str]) -> Domain:
    text = "\n".join(lines)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ParseError(command, "a domain document must not declare a DOCTYPE or entities", start, lines[0])
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line_offset = min(max(exc.position[0] - 1, 0), len(lines) - 1)
        raise ParseError(command, f"not well-formed XML ({exc})", start + line_offset, lines[line_offset]) from None
    name, uuid = root.findtext("name"), root.findtext("uuid")
    if root.tag != "domain" or not name or not uuid:
        raise ParseError(command, "a <domain> needs a <name> and a <uuid>", start, lines[0])
    try:
        return Domain(
            name=name,
            uuid=uuid,
            id=int(root.attrib["id"]) if "id" in root.attrib else None,
            type=root.get("type", ""),
            memory_kib=_memory_kib(root.find("memory")),
            vcpus=int(root.findtext("vcpu")) if root.findtext("vcpu") else None,
            nova=_nova(root.find(f"metadata/{_N}instance")),
            interfaces=tuple(_interface(e) for e in root.findall("devices/interface")),
        )
    except (ValueError, KeyError) as exc:
        raise ParseError(command, f"domain {name}: bad value ({exc})", start, lines[0]) from None


def _memory_kib(element: ET.Element | None) -> int | None:
    if element is None or not element.text:
        return None
    return int(int(element.text) * _KIB[element.get("unit", "KiB")])


def _nova(element: ET.Element | None) -> NovaMetadata | None:
    if element is None:
        return None
    flavor = element.find(f"{_N}flavor")
    user = element.find(f"{_N}owner/{_N}user")
    project = element.find(f"{_N}owner/{_N}project")
    root = element.find(f"{_N}root")
    return NovaMetadata(
        name=element.findtext(f"{_N}name"),
        package_version=_attribute(element.find(f"{_N}package"), "version"),
        creation_time=element.findtext(f"{_N}creationTime"),
        flavor_name=_attribute(flavor, "name"),
        flavor={c.tag.removeprefix(_N): c.text or "" for c in flavor} if flavor is not None else {},
        user_uuid=_attribute(user, "uuid"),
        user_name=user.text if user is not None else None,
        project_uuid=_attribute(project, "uuid"),
        project_name=project.text if project is not None else None,
        root_type=_attribute(root, "type"),
        root_uuid=_attribute(root, "uuid"),
    )


def _interface(element: ET.Element) -> DomainInterface:
    virtualport = element.find("virtualport")
    parameters = virtualport.find("parameters") if virtualport is not None else None
    mtu = _attribute(element.find("mtu"), "size")
    return DomainInterface(
        type=element.get("type", ""),
        mac=_attribute(element.find("mac"), "address"),
        source=dict(element.find("source").attrib) if element.find("source") is not None else {},
        target_dev=_attribute(element.find("target"), "dev"),
        model=_attribute(element.find("model"), "type"),
        driver=_attribute(element.find("driver"), "name"),
        alias=_attribute(element.find("alias"), "name"),
        address=dict(element.find("address").attrib) if element.find("address") is not None else {},
        virtualport_type=_attribute(virtualport, "type"),
        virtualport_parameters=dict(parameters.attrib) if parameters is not None else {},
        mtu=int(mtu) if mtu is not None else None,
    )


def _attribute(element: ET.Element | None, name: str) -> str | None:
    return element.get(name) if element is not None else None
