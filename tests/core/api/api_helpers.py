"""Helpers for the API tests: serving an app over loopback HTTP, a valid environment
document, checking error bodies; and, as a plugin, one monitoring check."""

from __future__ import annotations

import socket

from calipso_core import hookimpl
from calipso_core.testing import serve_app
from calipso_core.types import CliqueType, MonitoringCheck

ENV = "lab-one"
TOKEN = "X-Auth-Token"
PASSWORD = "correct horse battery"
START_TIMEOUT = 30.0
HTTP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app):
    """Serve ``app`` over loopback HTTP (``calipso_core.testing.serve_app``)."""
    return serve_app(app, START_TIMEOUT)


def token_for(users, name: str) -> str:
    """A new token of the user ``name`` (whose password is ``PASSWORD``)."""
    return users.issue_token(users.authenticate(name, PASSWORD), "credentials").token


class Clock:
    """A monotonic clock that moves only when told (``clock.now += seconds``)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def environment_doc(name: str = ENV, **fields) -> dict:
    """A valid environment with a CLI section holding a password."""
    return {
        "name": name, "distribution": "Calipso-lab", "distribution_version": "1", "mechanism_drivers": ["OVS"],
        "type_drivers": "vxlan", "listen": False,
        "configuration": [{"name": "CLI", "host": "127.0.0.1", "user": "calipso", "pwd": "s3cret-cli"}],
        **fields,
    }


def assert_error(response, status: int, *words: str) -> dict:
    """The response is the API's error body with ``status``, its message naming ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == status
    assert error["title"]
    for word in words:
        assert word in error["message"], error["message"]
    return error


@hookimpl
def calipso_monitoring_checks():
    return [MonitoringCheck(name="vedge_ovs", object_type="vedge", command="check_vedge_ovs.py",
                            condition={"mechanism_drivers": ["OVS"]}, description="OVS daemons run")]


def _object(object_id: str, object_type: str, parent_path: str, name: str | None = None, **fields) -> dict:
    name = name or object_id
    return {"id": object_id, "type": object_type, "name": name, "id_path": f"{parent_path}/{object_id}",
            "name_path": f"{parent_path}/{name}", "parent_id": parent_path.rsplit("/", 1)[-1], **fields}


def small_inventory(env: str = ENV) -> list[dict]:
    """A host with two instances on one bridge, one vEdge, one pNIC and one network."""
    root, host = f"/{env}", f"/{env}/node-1"
    return [
        _object("node-1", "host", root, host="node-1"),
        _object("proj-1", "project", root, name="demo"),
        _object("vm-1", "instance", host, name="web-1", host="node-1", projects=["demo"]),
        _object("vm-2", "instance", host, name="web-10", host="node-1", projects=["demo"]),
        _object("vnic-1", "vnic", f"{host}/vm-1", host="node-1", mac_address="fa:16:3e:00:00:01"),
        _object("vnic-2", "vnic", f"{host}/vm-2", host="node-1", mac_address="FA:16:3E:00:00:02"),
        _object("br-1", "vconnector", host, host="node-1"),
        _object("vedge-1", "vedge", host, name="OVS on node-1", host="node-1", status="OK"),
        _object("node-1-eth0", "host_pnic", host, name="eth0", host="node-1", **{"IP Address": "192.0.2.10"}),
        _object("net-1", "network", f"{root}/proj-1", name="private", cidrs=["10.0.0.0/24"], project="demo"),
        _object("port-1", "port", f"{root}/proj-1/net-1", fixed_ips=[{"ip_address": "10.0.0.5"}]),
    ]


SMALL_LINKS = (
    ("instance-vnic", "vm-1", "vnic-1"), ("vnic-vconnector", "vnic-1", "br-1"),
    ("instance-vnic", "vm-2", "vnic-2"), ("vnic-vconnector", "vnic-2", "br-1"),
    ("vconnector-vedge", "br-1", "vedge-1"), ("vedge-host_pnic", "vedge-1", "node-1-eth0"),
    ("host_pnic-network", "node-1-eth0", "net-1"),
)


def _clique(env: str, focal: str, focal_type: str, link_rows: list[dict]) -> dict:
    nodes = list(dict.fromkeys([focal, *(end for link in link_rows for end in (link["source_id"],
                                                                                 link["target_id"]))]))
    detailed = [{k: link.get(k) for k in ("id", "link_type", "source_id", "target_id", "link_name")}
                for link in link_rows]
    from calipso_core.store.inventory import split_document
    from calipso_core.store.tables import cliques

    return split_document(cliques, env, {
        "focal_point": focal, "focal_point_type": focal_type, "clique_type": focal_type, "nodes": nodes,
        "constraints": {"network": "net-1"}, "links": [link["id"] for link in link_rows], "links_detailed": detailed})


def write_small_graph(calipso, env: str = ENV) -> dict[tuple[str, str], int]:
    """Write ``small_inventory``, its links and three cliques (vm-1, vm-2, net-1);
    returns the link ids by (source, target)."""
    from calipso_core.store.tables import cliques

    calipso.inventory.upsert_objects(env, small_inventory(env))
    calipso.inventory.upsert_links(env, [
        {"link_type": t, "source_id": s, "target_id": d, "link_name": f"{s}-{d}", "state": "up", "host": "node-1",
         "attributes": {"network": "net-1"}} for t, s, d in SMALL_LINKS])
    rows = {(link["source_id"], link["target_id"]): link for link in calipso.inventory.find_links(env)}
    path = [rows[k] for k in (("br-1", "vedge-1"), ("vedge-1", "node-1-eth0"), ("node-1-eth0", "net-1"))]
    vm1 = [rows[("vm-1", "vnic-1")], rows[("vnic-1", "br-1")], *path]
    vm2 = [rows[("vm-2", "vnic-2")], rows[("vnic-2", "br-1")], *path]
    network = [*path[::-1], rows[("vnic-1", "br-1")], rows[("vm-1", "vnic-1")], rows[("vnic-2", "br-1")],
               rows[("vm-2", "vnic-2")]]
    with calipso.engine.begin() as conn:
        conn.execute(cliques.insert(), [_clique(env, "vm-1", "instance", vm1), _clique(env, "vm-2", "instance", vm2),
                                        _clique(env, "net-1", "network", network)])
    return {key: link["id"] for key, link in rows.items()}


@hookimpl
def calipso_clique_types():
    return [CliqueType(name="instance", focal_point_type="instance", constraints=("network",),
                       link_types=("instance-vnic", "vnic-vconnector", "vconnector-vedge", "vedge-host_pnic",
                                   "host_pnic-network"))]
