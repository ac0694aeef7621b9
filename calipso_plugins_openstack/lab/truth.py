"""What a perfect scan of a lab must find: every OpenStack object and link, from the lab
model itself (not from what the lab prints), by the rules in this plugin's README."""

from __future__ import annotations

from collections import defaultdict

from calipso_core.lab.model import LabModel
from calipso_core.lab.switching import HostSwitching, host_switching
from calipso_core.lab.truth import Truth
from calipso_plugins_openstack.fetchers.api import INTERNAL_ZONE, SERVICE_PROJECTS
from calipso_plugins_openstack.links import TUNNEL_TYPES, port_key

OVS_LXB = ("OVS", "LXB")


def openstack_truth(model: LabModel, env: str) -> Truth:
    truth = Truth()
    with model.lock:
        _regions(model, env, truth)
        _projects(model, env, truth)
        for host in model.hosts.values():
            _host(model, host_switching(model, host.name), truth)
    return truth


def _regions(model: LabModel, env: str, truth: Truth) -> None:
    truth.folder("regions_folder", f"{env}-regions", env)
    for region in model.regions:
        truth.add("region", region, f"{env}-regions")
        truth.folder("aggregates_folder", f"{region}-aggregates", region)
        for aggregate in model.aggregates.values():
            if aggregate.region == region:
                truth.add("aggregate", str(aggregate.id), f"{region}-aggregates")
                for host in aggregate.hosts:
                    truth.add("host_ref", f"aggregate-{aggregate.name}-{host}", str(aggregate.id))
        truth.folder("availability_zones_folder", f"{region}-availability_zones", region)
        for host in model.hosts.values():
            if host.region == region:
                zone = host.zone if host.has_role("compute") else INTERNAL_ZONE
                truth.add("availability_zone", zone, f"{region}-availability_zones")
                truth.add("host", host.name, zone)


def _projects(model: LabModel, env: str, truth: Truth) -> None:
    truth.folder("projects_folder", f"{env}-projects", env)
    scanned = {p.id for p in model.projects.values() if p.name not in SERVICE_PROJECTS}
    for project_id in scanned:
        truth.add("project", project_id, f"{env}-projects")
        truth.folder("networks_folder", f"{project_id}-networks", project_id)
    for network in model.networks.values():
        if network.project_id in scanned:
            truth.add("network", network.id, f"{network.project_id}-networks", network=network.id)
            truth.folder("ports_folder", f"{network.id}-ports", network.id)
            for port in model.network_ports(network.id):
                truth.add("port", port.id, f"{network.id}-ports")


def _host(model: LabModel, view: HostSwitching, truth: Truth) -> None:
    host = view.host.name
    driver = model.mechanism_driver
    for kind in ("instances", "vservices", "network_agents"):
        truth.folder(f"{kind}_folder", f"{host}-{kind}", host)
    truth.folder("vservice_dhcps_folder", f"{host}-vservices-dhcps", f"{host}-vservices")
    truth.folder("vservice_routers_folder", f"{host}-vservices-routers", f"{host}-vservices")
    for agent in model.agents.values():
        if agent.host == host:
            truth.add("network_agent", f"{agent.binary}-{agent.id}", f"{host}-network_agents")
    vnics = _instances(model, view, truth) + _vservices(model, view, truth)
    if driver not in OVS_LXB:
        return
    truth.folder("pnics_folder", f"{host}-host_pnics", host)
    truth.folder("vconnectors_folder", f"{host}-vconnectors", host)
    pnics = {}
    for nic in view.host.pnics:
        pnics[nic.name] = (f"{nic.name}-{nic.mac}", nic.ip)
        truth.add("host_pnic", pnics[nic.name][0], f"{host}-host_pnics")
    oteps = _bridges(model, view, vnics, pnics, truth)
    if driver == "OVS":
        truth.folder("vedges_folder", f"{host}-vedges", host)
        oteps += _ovs(model, view, vnics, pnics, truth)
    for otep_id, address in oteps:
        for pnic_id, ip in pnics.values():
            if ip and ip == address:
                truth.link("otep-host_pnic", otep_id, pnic_id)
    _pnic_networks(model, view, pnics, oteps, truth)


def _instances(model: LabModel, view: HostSwitching, truth: Truth) -> list[tuple[str, str, str, str]]:
    """Instances and their vNICs; returns (vNIC id, name, kind, network) of each vNIC."""
    host, vnics = view.host.name, []
    for guest in view.guests:
        networks = sorted({model.ports[vif.port_id].network_id for vif in guest.vifs})
        truth.add("instance", guest.instance_id, f"{host}-instances", network=networks)
        truth.folder("vnics_folder", f"{guest.instance_id}-vnics", guest.instance_id)
        for vif in guest.vifs:
            if vif.target_dev and guest.state == "running":
                vnic, network = f"{host}-{vif.target_dev}", model.ports[vif.port_id].network_id
                truth.add("vnic", vnic, f"{guest.instance_id}-vnics")
                truth.link("instance-vnic", guest.instance_id, vnic, network)
                vnics.append((vnic, vif.target_dev, "instance", network))
    return vnics


def _vservices(model: LabModel, view: HostSwitching, truth: Truth) -> list[tuple[str, str, str, str]]:
    host, vnics = view.host.name, []
    for ns in view.namespaces:
        service = f"{host}-{ns.name}"
        folder = f"{host}-vservices-dhcps" if ns.kind == "dhcp" else f"{host}-vservices-routers"
        interfaces = {i.name: model.ports[i.port_id].network_id for i in ns.interfaces}
        networks = [ns.object_id] if ns.kind == "dhcp" else sorted(
            {p.network_id for p in model.device_ports(ns.object_id)})
        truth.add("vservice", service, folder, network=networks)
        truth.folder("vnics_folder", f"{service}-vnics", service)
        for name, network in interfaces.items():
            vnic = f"{host}-{name}"
            truth.add("vnic", vnic, f"{service}-vnics")
            truth.link("vservice-vnic", service, vnic, network)
            vnics.append((vnic, name, "vservice", network))
    return vnics


def _bridges(model, view: HostSwitching, vnics, pnics, truth: Truth) -> list[tuple[str, str]]:
    """Linux bridges with their vNIC and pNIC links, and Linux bridge OTEPs."""
    host, oteps = view.host.name, []
    devices = {d.name: d for d in view.devices}
    by_key = {port_key(v[1]): v for v in vnics if port_key(v[1])}
    for bridge in view.linux_bridges:
        vconnector = f"{host}-{bridge.name}"
        truth.add("vconnector", vconnector, f"{host}-vconnectors")
        for member in (m.name for m in bridge.interfaces):
            found = by_key.get(port_key(member)) if port_key(member) else None
            if found and (found[1] == member or found[2] == "vservice"):
                truth.link("vnic-vconnector", found[0], vconnector, found[3])
            if member.split(".", 1)[0] in pnics:
                truth.link("vconnector-host_pnic", vconnector, pnics[member.split(".", 1)[0]][0])
            device = devices.get(member)
            if model.mechanism_driver == "LXB" and device is not None and device.kind == "vxlan":
                otep = f"{host}-otep-{member}"
                truth.add("otep", otep, vconnector)
                truth.link("otep-vconnector", otep, vconnector)
                oteps.append((otep, device.local_ip))
    return oteps


def _ovs(model, view: HostSwitching, vnics, pnics, truth: Truth) -> list[tuple[str, str]]:
    host = view.host.name
    agent = next((a for a in model.agents.values() if a.host == host and a.agent_type == "Open vSwitch agent"), None)
    if agent is None or not view.ovs_bridges:
        return []
    vedge = agent.id
    truth.add("vedge", vedge, f"{host}-vedges")
    vnic_names = {v[1]: v for v in vnics}
    bridges = {b.name for b in view.linux_bridges}
    bridge_networks = _bridge_networks(model, view, vnics)
    for bridge in view.ovs_bridges:
        for port in bridge.ports:
            if port.interface_type in TUNNEL_TYPES:
                continue
            if port.name in vnic_names:
                truth.link("vnic-vedge", vnic_names[port.name][0], vedge, vnic_names[port.name][3])
            elif port.name in pnics:
                truth.link("vedge-host_pnic", vedge, pnics[port.name][0])
            elif port.name.startswith("qvo"):
                for linux_bridge in view.linux_bridges:
                    if "qvb" + port.name[3:] in {m.name for m in linux_bridge.interfaces}:
                        truth.link("vconnector-vedge", f"{host}-{linux_bridge.name}", vedge,
                                   bridge_networks.get(linux_bridge.name))
    config = model.agent_configurations(agent)
    if not config.get("tunnel_types") or not config.get("tunneling_ip"):
        return []
    otep = f"{host}-otep"
    truth.add("otep", otep, vedge)
    truth.link("vedge-otep", vedge, otep)
    holder = next((d.name for d in view.devices if d.ip == config["tunneling_ip"]), None)
    if holder in bridges:
        truth.link("otep-vconnector", otep, f"{host}-{holder}")
    return [(otep, config["tunneling_ip"])]


def _pnic_networks(model, view: HostSwitching, pnics, oteps, truth: Truth) -> None:
    host = view.host.name
    carried: dict[str, set[str]] = defaultdict(set)
    for _otep, address in oteps:
        carried["tunnel"] |= {pnic_id for pnic_id, ip in pnics.values() if ip and ip == address}
    for agent in model.agents.values():
        if agent.host != host:
            continue
        config = model.agent_configurations(agent)
        port_bridges = {p.name: b.name for b in view.ovs_bridges for p in b.ports}
        for physnet, bridge in (config.get("bridge_mappings") or {}).items():
            carried[physnet] |= {pnics[n][0] for n, b in port_bridges.items() if b == bridge and n in pnics}
        for physnet, interface in (config.get("interface_mappings") or {}).items():
            if interface in pnics:
                carried[physnet].add(pnics[interface][0])
    for network_id in sorted({p.network_id for p in model.host_ports(host)}):
        network = model.networks[network_id]
        if not truth.has("network", network_id):
            continue  # a network of a project discovery does not scan
        physnet = "tunnel" if network.network_type in TUNNEL_TYPES else network.physical_network
        for pnic_id in carried.get(physnet, ()):
            truth.link("host_pnic-network", pnic_id, network_id, network_id)


def _bridge_networks(model, view: HostSwitching, vnics) -> dict[str, str | None]:
    """A Linux bridge's network: the one of the vNICs it holds, when they agree; without
    vNICs (a stopped instance's), the one of the port its name carries."""
    by_name = {v[1]: v[3] for v in vnics}
    ports = {vif.port_id[:11]: model.ports[vif.port_id].network_id for guest in view.guests for vif in guest.vifs}
    found = {}
    for bridge in view.linux_bridges:
        nets = {by_name[m.name] for m in bridge.interfaces if m.name in by_name}
        found[bridge.name] = (next(iter(nets)) if len(nets) == 1 else None) if nets else ports.get(
            port_key(bridge.name))
    return found
