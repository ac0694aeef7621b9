"""Writes :class:`~calipso_core.hostcli.libvirt_domain.Domain` records as ``virsh dumpxml``
prints them: two-space indent, single-quoted attributes (Nova's metadata keeps the double
quotes Nova wrote), a blank line after each document."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from xml.sax import saxutils

from calipso_core.hostcli.libvirt_domain import NOVA_NS, Domain, DomainInterface, NovaMetadata


def render_dumpxml(domain: Domain) -> str:
    """The text ``virsh dumpxml <id>`` prints for ``domain``."""
    return "\n".join(_domain_lines(domain)) + "\n\n"


def render_domains(domains: Iterable[Domain]) -> str:
    """Several domains' XML one after another, as a loop of ``virsh dumpxml`` prints them."""
    return "".join(render_dumpxml(d) for d in domains)


_SPECIAL = re.compile("[&<>'\"]")
_QUOTE_ENTITY = {"'": {"'": "&apos;"}, '"': {'"': "&quot;"}}


def escape(text: str, entities: Mapping[str, str] | None = None) -> str:
    """``text`` with ``&``, ``<``, ``>`` (and ``entities``) escaped; most text has none."""
    return saxutils.escape(text, entities or {}) if _SPECIAL.search(text) else text


def _attrs(attributes: Mapping[str, str | None], quote: str = "'") -> str:
    entity = _QUOTE_ENTITY[quote]
    return "".join(f" {k}={quote}{escape(v, entity)}{quote}" for k, v in attributes.items() if v is not None)


def _domain_lines(d: Domain) -> list[str]:
    lines = [f"<domain{_attrs({'type': d.type, 'id': None if d.id is None else str(d.id)})}>",
             f"  <name>{escape(d.name)}</name>", f"  <uuid>{escape(d.uuid)}</uuid>"]
    if d.nova:
        lines += ["  <metadata>", *("    " + line for line in _nova_lines(d.nova)), "  </metadata>"]
    if d.memory_kib is not None:
        lines += [f"  <memory unit='KiB'>{d.memory_kib}</memory>",
                  f"  <currentMemory unit='KiB'>{d.memory_kib}</currentMemory>"]
    if d.vcpus is not None:
        lines.append(f"  <vcpu placement='static'>{d.vcpus}</vcpu>")
    lines += [
        "  <os>", "    <type arch='x86_64' machine='pc-i440fx-trusty'>hvm</type>", "    <boot dev='hd'/>", "  </os>",
        "  <features>", "    <acpi/>", "    <apic/>", "  </features>",
        "  <clock offset='utc'/>", "  <on_poweroff>destroy</on_poweroff>", "  <on_reboot>restart</on_reboot>",
        "  <on_crash>destroy</on_crash>",
        "  <devices>", "    <emulator>/usr/bin/qemu-system-x86_64</emulator>",
    ]
    for interface in d.interfaces:
        lines += ["    " + line for line in _interface_lines(interface)]
    lines += [
        "    <serial type='pty'>", "      <target port='0'/>", "    </serial>",
        "    <console type='pty'>", "      <target type='serial' port='0'/>", "    </console>",
        "    <memballoon model='virtio'/>",
        "  </devices>",
        "</domain>",
    ]
    return lines


def _interface_lines(i: DomainInterface) -> list[str]:
    lines = [f"<interface{_attrs({'type': i.type})}>"]
    if i.mac is not None:
        lines.append(f"  <mac{_attrs({'address': i.mac})}/>")
    if i.source:
        lines.append(f"  <source{_attrs(i.source)}/>")
    if i.virtualport_type is not None or i.virtualport_parameters:
        lines += [f"  <virtualport{_attrs({'type': i.virtualport_type})}>",
                  f"    <parameters{_attrs(i.virtualport_parameters)}/>", "  </virtualport>"]
    singles = (("target", "dev", i.target_dev), ("model", "type", i.model), ("driver", "name", i.driver))
    lines += [f"  <{tag}{_attrs({name: value})}/>" for tag, name, value in singles if value is not None]
    if i.mtu is not None:
        lines.append(f"  <mtu size='{i.mtu}'/>")
    if i.alias is not None:
        lines.append(f"  <alias{_attrs({'name': i.alias})}/>")
    if i.address:
        lines.append(f"  <address{_attrs(i.address)}/>")
    return [*lines, "</interface>"]


def _nova_lines(n: NovaMetadata) -> list[str]:
    def q(attributes: Mapping[str, str | None]) -> str:
        return _attrs(attributes, '"')

    lines = [f'<nova:instance xmlns:nova="{NOVA_NS}">']
    if n.package_version is not None:
        lines.append(f"  <nova:package{q({'version': n.package_version})}/>")
    if n.name is not None:
        lines.append(f"  <nova:name>{escape(n.name)}</nova:name>")
    if n.creation_time is not None:
        lines.append(f"  <nova:creationTime>{escape(n.creation_time)}</nova:creationTime>")
    if n.flavor_name is not None or n.flavor:
        lines.append(f"  <nova:flavor{q({'name': n.flavor_name})}>")
        lines += [f"    <nova:{k}>{escape(v)}</nova:{k}>" for k, v in n.flavor.items()]
        lines.append("  </nova:flavor>")
    if n.user_name is not None or n.project_name is not None:
        lines.append("  <nova:owner>")
        if n.user_name is not None:
            lines.append(f"    <nova:user{q({'uuid': n.user_uuid})}>{escape(n.user_name)}</nova:user>")
        if n.project_name is not None:
            lines.append(f"    <nova:project{q({'uuid': n.project_uuid})}>{escape(n.project_name)}</nova:project>")
        lines.append("  </nova:owner>")
    if n.root_type is not None or n.root_uuid is not None:
        lines.append(f"  <nova:root{q({'type': n.root_type, 'uuid': n.root_uuid})}/>")
    return [*lines, "</nova:instance>"]
