"""What a perfect scan of a VPP lab must find of VPP: every object and link, from the lab
model itself (not from what the lab prints), by the rules in this plugin's README."""

from __future__ import annotations

from calipso_core.lab.model import LabModel
from calipso_core.lab.records import Port
from calipso_core.lab.switching import HostSwitching, host_switching
from calipso_core.lab.switching_lxb import NAMESPACE_PEER
from calipso_core.lab.truth import Truth
from calipso_plugins_vpp.links import TUNNEL_TYPES
from calipso_plugins_vpp.state import PNIC_NAME

#: Projects whose networks discovery leaves out (the OpenStack plugin's rule).
UNSCANNED_PROJECTS = {"service", "services"}


def vpp_truth(model: LabModel, env: str) -> Truth:
    truth = Truth()
    if model.mechanism_driver != "VPP":
        return truth
    with model.lock:
        scanned = {n.id for n in model.networks.values()
                   if model.projects.get(n.project_id) is None
                   or model.projects[n.project_id].name not in UNSCANNED_PROJECTS}
        for host in model.hosts.values():
            _host(model, host_switching(model, host.name), scanned, truth)
    return truth


def _host(model: LabModel, view: HostSwitching, scanned: set[str], truth: Truth) -> None:
    host = view.host.name
    truth.folder("vconnectors_folder", f"{host}-vconnectors", host)
    truth.folder("vedges_folder", f"{host}-vedges", host)
    if view.vpp is None:
        return
    vedge = f"{host}-VPP"
    truth.add("vedge", vedge, f"{host}-vedges")
    truth.folder("pnics_folder", f"{vedge}-host_pnics", vedge)
    pnics = {}
    for interface in view.vpp.interfaces:
        if PNIC_NAME.match(interface.name):
            pnics[interface.name] = (f"{host}-pnic-{interface.name}", interface.ip)
            truth.add("host_pnic", pnics[interface.name][0], f"{vedge}-host_pnics")
            truth.link("vedge-host_pnic", vedge, pnics[interface.name][0])
    otep_pnics = _otep(view, vedge, pnics, truth)
    vnics = _instance_vnics(model, view, truth)
    domain_pnics: dict[str, list[str]] = {}
    ports_of = {i.name: i.port_id for i in view.vpp.interfaces if i.port_id}
    for bd in view.vpp.bridge_domains:
        network = bd.network_id if bd.network_id in scanned else None
        vconnector = f"{host}-vconnector-{bd.bd_id}"
        truth.add("vconnector", vconnector, f"{host}-vconnectors")
        truth.link("vconnector-vedge", vconnector, vedge, network)
        for member in bd.members:
            pnic = pnics.get(member.split(".", 1)[0])
            if pnic is not None:
                truth.link("vconnector-host_pnic", vconnector, pnic[0])
                domain_pnics.setdefault(bd.network_id, []).append(pnic[0])
            port_id = ports_of.get(member)
            port = model.ports.get(port_id) if port_id else None
            vnic = (vnics.get(port.id) or _vservice_vnic(host, port)) if port is not None else None
            if vnic is not None:
                truth.link("vnic-vconnector", vnic, vconnector, port.network_id)
    for network_id in sorted({p.network_id for p in model.host_ports(host)} & scanned):
        tunnel = model.networks[network_id].network_type in TUNNEL_TYPES
        for pnic_id in dict.fromkeys(otep_pnics if tunnel else domain_pnics.get(network_id, [])):
            truth.link("host_pnic-network", pnic_id, network_id, network_id)


def _otep(view: HostSwitching, vedge: str, pnics: dict[str, tuple[str, str | None]], truth: Truth) -> list[str]:
    """The OTEP of a host with vxlan tunnels; returns the pNICs holding its address."""
    if not view.vpp.tunnels:
        return []
    otep = f"{view.host.name}-otep"
    truth.add("otep", otep, vedge)
    truth.link("vedge-otep", vedge, otep)
    address = view.vpp.tunnels[0].src
    holders = [pnic_id for pnic_id, ip in pnics.values() if ip and ip == address]
    for pnic_id in holders:
        truth.link("otep-host_pnic", otep, pnic_id)
    return holders


def _instance_vnics(model: LabModel, view: HostSwitching, truth: Truth) -> dict[str, str]:
    """The vhost-user vNICs of running instances; returns vNIC id by port id."""
    host, vnics = view.host.name, {}
    for guest in view.guests:
        if guest.domain_id is None:
            continue
        for vif in guest.vifs:
            if vif.interface_type == "vhostuser":
                vnic = f"{host}-{guest.libvirt_name}-vhostuser-{vif.mac}"
                truth.add("vnic", vnic, f"{guest.instance_id}-vnics")
                truth.link("instance-vnic", guest.instance_id, vnic, model.ports[vif.port_id].network_id)
                vnics[vif.port_id] = vnic
    return vnics


def _vservice_vnic(host: str, port: Port) -> str | None:
    """The vService vNIC a DHCP or router port is: its namespace device."""
    prefix = NAMESPACE_PEER.get(port.device_owner)
    return f"{host}-{prefix}{port.short_id}" if prefix else None
