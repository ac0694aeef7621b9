"""The managed objects of the lab's ACI fabric, rendered from the lab model.

- ``fabricNode`` and ``topSystem`` for the APIC itself (node 1) and every leaf and spine;
- ``l1PhysIf`` for every port: 54 on a leaf (``eth1/1``–``eth1/48`` towards hosts, the
  rest fabric uplinks), 36 on a spine (more if there are more leaves);
- ``epmMacEp`` and ``fvCEp`` (with its ``fvRsCEpToPathEp``) for every host NIC cabled to
  a leaf: each NIC's own MAC address is learned on its port, in the EPG of its purpose
  (management, data, external) of the tenant ``calipso-lab``;
- ``lldpAdjEp`` at both ends of every leaf–spine cable.

The attribute sets are those of the recorded APIC answers (fixtures ``upstream/aci``).
"""

from __future__ import annotations

from calipso_core.lab.model import LabModel
from calipso_core.lab.records import AciSwitch, FabricLink, HostLink, Pnic
from calipso_plugins_aci.lab.mos import Mo

TENANT, APPLICATION = "calipso-lab", "openstack"
#: purpose of a host NIC -> (EPG name, VLAN encapsulation, bridge domain VNID)
EPGS = {"management": ("mgmt", 10, 15925207), "data": ("data", 20, 15925208), "external": ("external", 30, 15925209)}
VRF_VNID = 2883584
LEAF_PORTS, SPINE_PORTS = 54, 36
FIRST_UPLINK = 49
CHANGED = "2025-01-06T09:00:00.000+00:00"
APIC_VERSION = "4.2(7f)"


def node_dn(node_id: int, pod: int = 1) -> str:
    return f"topology/pod-{pod}/node-{node_id}"


def path_dn(node_id: int, port: str, pod: int = 1) -> str:
    return f"topology/pod-{pod}/paths-{node_id}/pathep-[{port}]"


def chassis_mac(node_id: int) -> str:
    return f"00:3A:9C:{node_id >> 8 & 0xFF:02X}:{node_id & 0xFF:02X}:00"


def speed(mbps: int) -> str:
    return f"{mbps // 1000}G" if mbps >= 1000 else f"{mbps}M"


def fabric_objects(model: LabModel) -> list[Mo]:
    """Every managed object the lab APIC serves (none when the lab has no fabric)."""
    fabric = model.aci
    if fabric is None:
        return []
    nics = {(host.name, nic.name): nic for host in model.hosts.values() for nic in host.pnics}
    host_ports = {(link.leaf_id, link.port): nics[(link.host, link.pnic)] for link in fabric.host_links}
    uplinks = {(link.leaf_id, link.leaf_port) for link in fabric.fabric_links}
    spine_ports = max([SPINE_PORTS, *(int(link.spine_port.split("/")[1]) for link in fabric.fabric_links)])
    mos = _node(1, "apic1", "controller", "FCH1234V0AP", "APIC-SERVER-M2", APIC_VERSION, "10.0.0.1")
    for switch in fabric.switches:
        mos += _node(switch.node_id, switch.name, switch.role, switch.serial, switch.model, switch.version,
                     switch.address)
        count = LEAF_PORTS if switch.role == "leaf" else spine_ports
        mos += [_port(switch, n, host_ports, uplinks) for n in range(1, count + 1)]
    for link in fabric.host_links:
        mos += _endpoint(link, nics[(link.host, link.pnic)])
    names = {s.node_id: s for s in fabric.switches}
    for link in fabric.fabric_links:
        mos += _lldp(link, names[link.leaf_id], names[link.spine_id])
    return mos


def _node(node_id: int, name: str, role: str, serial: str, model: str, version: str, address: str) -> list[Mo]:
    dn = node_dn(node_id)
    node = {
        "adSt": "on", "address": address, "annotation": "", "childAction": "", "delayedHeartbeat": "no", "dn": dn,
        "extMngdBy": "", "fabricSt": "active" if role != "controller" else "unknown", "id": str(node_id),
        "lcOwn": "local", "modTs": CHANGED, "model": model, "monPolDn": "uni/fabric/monfab-default", "name": name,
        "nameAlias": "", "nodeType": "unspecified", "role": role, "serial": serial, "status": "", "uid": "0",
        "vendor": "Cisco Systems, Inc", "version": version,
    }
    system = {
        "address": address, "childAction": "", "currentTime": CHANGED, "dn": f"{dn}/sys", "fabricDomain": TENANT,
        "fabricMAC": "00:22:BD:F8:19:FF", "id": str(node_id), "inbMgmtAddr": "0.0.0.0", "lcOwn": "local",
        "modTs": CHANGED, "name": name, "nodeType": "unspecified", "oobMgmtAddr": f"172.31.{node_id // 250}."
        f"{node_id % 250 + 1}", "podId": "1", "role": role, "serial": serial, "state": "in-service",
        "status": "", "systemUpTime": "41:07:12:03.000", "version": version,
    }
    return [Mo("fabricNode", node), Mo("topSystem", system)]


def _port(switch: AciSwitch, number: int, host_ports: dict[tuple[int, str], Pnic],
          uplinks: set[tuple[int, str]]) -> Mo:
    port = f"eth1/{number}"
    nic = host_ports.get((switch.node_id, port))
    if switch.role == "spine":
        kind, usage, rate = "fab", "fabric", "40G"
    elif number >= FIRST_UPLINK:
        kind, usage, rate = "fab", "fabric,fabric-ext" if (switch.node_id, port) in uplinks else "discovery", "100G"
    else:
        kind, usage, rate = "leaf", "epg" if nic else "discovery", speed(nic.speed_mbps) if nic else "inherit"
    return Mo("l1PhysIf", {
        "adminSt": "up", "autoNeg": "on", "bw": "0", "childAction": "", "delay": "1", "descr": "",
        "dn": f"{node_dn(switch.node_id)}/sys/phys-[{port}]", "dot1qEtherType": "0x8100", "fecMode": "inherit",
        "id": port, "layer": "Layer2" if kind == "leaf" else "Layer3", "linkDebounce": "100",
        "medium": "broadcast", "modTs": CHANGED, "mode": "trunk", "mtu": "9000", "portT": kind,
        "routerMac": "not-applicable", "spanMode": "not-a-span-dest", "speed": rate, "status": "",
        "switchingSt": "enabled", "trunkLog": "default", "usage": usage,
    })


def _endpoint(link: HostLink, nic: Pnic) -> list[Mo]:
    mac = link.mac.upper()
    epg, vlan, bd = EPGS.get(nic.purpose, EPGS["data"])
    learned = Mo("epmMacEp", {
        "addr": mac, "childAction": "", "createTs": CHANGED, "flags": "local,mac", "ifId": link.port,
        "dn": f"{node_dn(link.leaf_id)}/sys/ctx-[vxlan-{VRF_VNID}]/bd-[vxlan-{bd}]/vlan-[vlan-{vlan}]/db-ep/mac-{mac}",
        "modTs": "never", "name": "", "pcTag": str(49152 + vlan), "status": "",
    })
    path = path_dn(link.leaf_id, link.port)
    attached = Mo("fvRsCEpToPathEp", {
        "childAction": "", "forceResolve": "no", "lcC": "learned", "lcOwn": "local", "modTs": CHANGED,
        "rType": "mo", "rn": f"rscEpToPathEp-[{path}]", "state": "formed", "stateQual": "none", "status": "",
        "tCl": "fabricPathEp", "tDn": path, "tType": "mo",
    })
    client = Mo("fvCEp", {
        "annotation": "", "childAction": "", "contName": "",
        "dn": f"uni/tn-{TENANT}/ap-{APPLICATION}/epg-{epg}/cep-{mac}", "encap": f"vlan-{vlan}", "extMngdBy": "",
        "id": "0", "idepdn": "", "ip": nic.ip or "0.0.0.0", "lcC": "learned", "lcOwn": "local", "mac": mac,
        "mcastAddr": "not-applicable", "modTs": CHANGED, "monPolDn": "uni/tn-common/monepg-default", "name": mac,
        "nameAlias": "", "status": "", "uid": "0", "uuid": "", "vmmSrc": "",
    }, (attached,))
    return [learned, client]


def _lldp(link: FabricLink, leaf: AciSwitch, spine: AciSwitch) -> list[Mo]:
    return [_adjacency(leaf, link.leaf_port, spine, link.spine_port),
            _adjacency(spine, link.spine_port, leaf, link.leaf_port)]


def _adjacency(local: AciSwitch, port: str, peer: AciSwitch, peer_port: str) -> Mo:
    return Mo("lldpAdjEp", {
        "capability": "bridge,router", "chassisIdT": "mac", "chassisIdV": chassis_mac(peer.node_id).lower(),
        "childAction": "", "dn": f"{node_dn(local.node_id)}/sys/lldp/inst/if-[{port}]/adj-1", "enCap": "bridge,router",
        "id": "1", "mgmtIp": peer.address, "mgmtPortMac": chassis_mac(peer.node_id), "modTs": CHANGED, "name": "",
        "portDesc": path_dn(peer.node_id, peer_port), "portIdT": "if-name", "portIdV": "E" + peer_port[1:],
        "stQual": "", "status": "", "sysDesc": node_dn(peer.node_id), "sysName": peer.name, "ttl": "120",
    })
