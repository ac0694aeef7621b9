"""The REST API under load: ``calipso serve`` (another process, loopback) over a
100,000-object inventory with its links and instance cliques.

Targets: ``GET /inventory?id=`` p50 < 5 ms; ``GET /graph`` of an instance p50 < 30 ms;
a mixed load offered at a fixed 500 requests/s for 20 s served in full with no errors.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from sqlalchemy import select

from calipso_core import db
from calipso_core.environments import Environments
from calipso_core.store import Inventory
from calipso_core.store.inventory import copy_rows
from calipso_core.store.tables import cliques, links
from calipso_core.users import READ_ONLY, Users

ENV = "bench-api"
OBJECTS = 100_000
INSTANCES_PER_HOST = 20
PROJECTS, NETWORKS, NETWORKS_PER_HOST = 40, 200, 4
WORKERS = 2
LATENCY_REQUESTS, LATENCY_SECONDS = 2000, 40.0
RATE, LOAD_SECONDS, MAX_CONNECTIONS = 500, 20, 64
START_TIMEOUT, HTTP_TIMEOUT = 60.0, 10.0


class Topology:
    """An OpenStack environment with Open vSwitch as the scanner would store it:
    objects with their id and name paths, links, and each instance's clique."""

    def __init__(self, env: str, rng: random.Random):
        self.rng = rng
        self.objects: list[dict] = []
        self.links: dict[tuple[str, str, str], dict] = {}
        self.cliques: list[tuple[dict, list[str], list[tuple[str, str, str]]]] = []
        self.root = {"id": env, "type": "environment", "id_path": f"/{env}", "name_path": f"/{env}"}
        self.macs = itertools.count(1)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def mac(self) -> str:
        n = next(self.macs)
        return f"fa:16:3e:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"

    def add(self, parent: dict, object_type: str, object_id: str, name: str, **fields) -> dict:
        doc = {"id": object_id, "type": object_type, "name": name, "object_name": name,
               "parent_id": parent["id"], "parent_type": parent["type"],
               "id_path": f"{parent['id_path']}/{object_id}", "name_path": f"{parent['name_path']}/{name}",
               "show_in_tree": True, **fields}
        self.objects.append(doc)
        return doc

    def folder(self, parent: dict, suffix: str, object_type: str, text: str) -> dict:
        return self.add(parent, object_type, f"{parent['id']}-{suffix}", text, text=text, create_object=True)

    def link(self, source: dict, target: dict, name: str, **attributes) -> tuple[str, str, str]:
        key = (f"{source['type']}-{target['type']}", source["id"], target["id"])
        self.links[key] = {"link_type": key[0], "source_id": key[1], "target_id": key[2], "link_name": name,
                           "host": source.get("host"), "state": "up", "link_weight": 0, "implicit": False,
                           "source_label": "", "target_label": "", "attributes": attributes}
        return key


def build_networks(topo: Topology) -> list[tuple[dict, dict]]:
    """Projects with their networks; each network with its ports folder."""
    projects_folder = topo.folder(topo.root, "projects", "projects_folder", "Projects")
    networks = []
    for p in range(PROJECTS):
        project = topo.add(projects_folder, "project", topo.uuid().replace("-", ""), f"project-{p}", enabled=True)
        folder = topo.folder(project, "networks", "networks_folder", "Networks")
        for n in range(NETWORKS // PROJECTS):
            net_id = topo.uuid()
            cidr = f"10.{p}.{n}.0/24"
            network = topo.add(folder, "network", net_id, f"net-{p}-{n}", network=net_id, project=project["name"],
                               cidrs=[cidr], mtu=1450, shared=False, status="ACTIVE", admin_state_up=True,
                               subnets={f"sub-{p}-{n}": {"cidr": cidr, "id": topo.uuid(), "enable_dhcp": True}},
                               **{"provider:network_type": "vxlan", "provider:segmentation_id": 100 + len(networks)})
            networks.append((network, topo.folder(network, "ports", "ports_folder", "Ports")))
    return networks


def build_instance(topo: Topology, host: dict, folders: dict, network: tuple[dict, dict], n: int) -> None:
    """An instance with its vNIC, bridge and port, the links between them and its clique."""
    net, ports = network
    port_id, mac, instance_id = topo.uuid(), topo.mac(), topo.uuid()
    subnet = next(iter(net["subnets"].values()))
    ip = f"{net['cidrs'][0].rsplit('.', 1)[0]}.{n % 250 + 3}"
    tap, bridge = f"tap{port_id[:11]}", f"qbr{port_id[:11]}"
    instance = topo.add(folders["instances"], "instance", instance_id, f"vm-{host['os_id']}-{n}",
                        host=host["id"], uuid=instance_id, local_name=f"instance-{n:08x}", project=net["project"],
                        projects=[net["project"]], network=[net["id"]], ip_address=host["ip_address"],
                        mac_address=mac, network_info=[{"id": port_id, "address": mac, "network": {
                            "id": net["id"], "label": net["name"], "subnets": [{"cidr": net["cidrs"][0],
                                                                                "ips": [{"address": ip}]}]}}])
    vnic = topo.add(topo.folder(instance, "vnics", "vnics_folder", "vNICs"), "vnic", f"{host['id']}-{tap}", tap,
                    host=host["id"], vnic_type="instance_vnic", instance_id=instance_id, mac_address=mac,
                    source_bridge=bridge, network=net["id"], target={"@dev": tap}, model={"@type": "virtio"})
    vconnector = topo.add(folders["vconnectors"], "vconnector", f"{host['id']}-{bridge}-8000.{mac.replace(':', '')}",
                          f"{host['id']}-{bridge}", host=host["id"], bridge_name=bridge, stp_enabled="no",
                          connector_type="bridge", network=net["id"], interfaces_names=[tap, f"qvb{port_id[:11]}"])
    topo.add(ports, "port", port_id, mac, mac_address=mac, network_id=net["id"], device_id=instance_id,
             device_owner="compute:nova", fixed_ips=[{"ip_address": ip, "subnet_id": subnet["id"]}],
             **{"binding:host_id": host["id"], "binding:vif_type": "ovs"})
    keys = [topo.link(instance, vnic, net["name"], network=net["id"]),
            topo.link(vnic, vconnector, mac, network=net["id"]),
            topo.link(vconnector, folders["vedge"], f"port-{port_id}", network=net["id"]),
            *folders["uplink"], folders["segments"][net["id"]]]
    nodes = [instance["id"], vnic["id"], vconnector["id"], folders["vedge"]["id"], f"{host['id']}-otep",
             folders["pnic"]["id"], net["id"]]
    topo.cliques.append((instance, nodes, keys))


def build_host(topo: Topology, zone: dict, n: int, networks: list[tuple[dict, dict]], count: int) -> None:
    """A compute host: its folders, vEdge, OTEP, pNICs and instances (while there are
    fewer than ``count`` objects)."""
    name = f"node-{n}.cisco.com"
    ip = f"192.168.{n // 250}.{n % 250 + 2}"
    host = topo.add(zone, "host", name, name, host=name, host_type=["Compute", "Network"], zone=zone["id"],
                    ip_address=ip, os_id=str(n), services={"nova-compute": {"active": True, "available": True}},
                    OS={"name": "Ubuntu", "version": "22.04", "ID": "ubuntu", "architecure": "x86_64"})
    folders = {suffix: topo.folder(host, suffix, f"{suffix}_folder", text) for suffix, text in (
        ("instances", "Instances"), ("vconnectors", "vConnectors"), ("vedges", "vEdges"), ("vservices", "vServices"))}
    pnics_folder = topo.folder(host, "host_pnics", "pnics_folder", "host_pNICs")
    vedge = topo.add(folders["vedges"], "vedge", topo.uuid(), f"{name}-OVS", host=name, agent_type="Open vSwitch agent",
                     binary="neutron-openvswitch-agent", configurations={"tunneling_ip": ip, "tunnel_types": ["vxlan"]})
    otep = topo.add(vedge, "otep", f"{name}-otep", f"{name}-otep", host=name, ip_address=ip, overlay_type="vxlan",
                    udp_port="4789")
    pnics = [topo.add(pnics_folder, "host_pnic", f"eth{k}-{mac}", f"eth{k}", host=name, local_name=f"eth{k}",
                      mac_address=mac, state="UP", Speed="10000Mb/s", **{"Link detected": "yes"})
             for k, mac in ((0, topo.mac()), (1, topo.mac()))]
    mine = topo.rng.sample(networks, NETWORKS_PER_HOST)
    folders |= {"vedge": vedge, "pnic": pnics[1],
                "uplink": [topo.link(vedge, otep, f"{name}-OVS-otep"), topo.link(otep, pnics[1], f"{name}pnic eth1")],
                "segments": {net["id"]: topo.link(pnics[1], net, f"Segment-{net['provider:segmentation_id']}",
                                                  network=net["id"]) for net, _ in mine}}
    for i in range(INSTANCES_PER_HOST):
        if len(topo.objects) >= count:
            return
        build_instance(topo, host, folders, topo.rng.choice(mine), i)


def build_topology(env: str, count: int) -> Topology:
    """Region, availability zone, projects and networks, then hosts up to ``count`` objects."""
    topo = Topology(env, random.Random(20240601))
    region = topo.add(topo.folder(topo.root, "regions", "regions_folder", "Regions"), "region", "RegionOne",
                      "RegionOne")
    zone = topo.add(topo.folder(region, "availability_zones", "availability_zones_folder", "Availability Zones"),
                    "availability_zone", "nova", "nova", available=True)
    networks = build_networks(topo)
    for n in itertools.count(1):
        if len(topo.objects) >= count:
            break
        build_host(topo, zone, n, networks, count)
    return topo


def clique_rows(topo: Topology, link_ids: dict[tuple[str, str, str], int]) -> list[dict]:
    """The ``cliques`` rows of the instances, as the clique finder writes them."""
    rows = []
    for focal, nodes, keys in topo.cliques:
        detailed = [{"id": link_ids[k], "link_type": k[0], "source_id": k[1], "target_id": k[2],
                     "link_name": topo.links[k]["link_name"]} for k in keys]
        rows.append({"environment": ENV, "focal_point": focal["id"], "focal_point_type": "instance",
                     "clique_type": "instance", "nodes": sorted(nodes), "constraints": {"network": focal["network"]},
                     "doc": {"links": [link_ids[k] for k in keys], "links_detailed": detailed}})
    return rows


def fill(engine, topo: Topology) -> dict[str, float]:
    """Store the objects and links in bulk, then the cliques with the links' row ids;
    returns the seconds each took."""
    store, seconds = Inventory(engine), {}
    Environments(engine).save({"name": ENV, "distribution": "Mirantis", "distribution_version": "9.0",
                               "mechanism_drivers": ["OVS"], "type_drivers": "vxlan", "listen": False,
                               "scanned": True, "configuration": []}, replace=True)
    started = time.perf_counter()
    store.upsert_objects(ENV, topo.objects)
    seconds["objects"], started = time.perf_counter() - started, time.perf_counter()
    store.upsert_links(ENV, topo.links.values())
    seconds["links"], started = time.perf_counter() - started, time.perf_counter()
    with engine.begin() as conn:
        link_ids = {(r.link_type, r.source_id, r.target_id): r.id for r in conn.execute(
            select(links.c.id, links.c.link_type, links.c.source_id, links.c.target_id)
            .where(links.c.environment == ENV))}
        copy_rows(conn, cliques, clique_rows(topo, link_ids))
    seconds["cliques"], started = time.perf_counter() - started, time.perf_counter()
    # Measure a settled database, not one that autovacuum is about to work through.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE inventory, links, cliques, history")
    seconds["vacuum analyze"] = time.perf_counter() - started
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(url: str, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``calipso serve`` in its own process group on a free loopback port, until
    ``/health`` answers; yields its URL and process group. Stopped with SIGINT (the
    group is killed if anything lingers)."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "calipso_core", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "CALIPSO_DATABASE_URL": url, "PYTHONWARNINGS": "ignore"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"calipso serve did not answer /health on port {port}: "
                                   f"{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# -- where the CPU time goes (Linux /proc; figures are left out elsewhere) ---------------


def _stat(pid: str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state, ppid, pgrp ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def processes(field: int, value: int) -> list[str]:
    """Processes whose stat ``field`` (1 = parent, 2 = process group) is ``value``."""
    pids = [pid for pid in os.listdir("/proc") if pid.isdigit()] if os.path.isdir("/proc") else []
    return [pid for pid in pids if (stat := _stat(pid)) and stat[field] == str(value)]


def cpu_seconds(pids: list[str], reaped: bool = False) -> float:
    """CPU time of ``pids``; with ``reaped``, also that of their children that have exited."""
    fields = (11, 12, 13, 14) if reaped else (11, 12)
    ticks = sum(int(stat[f]) for stat in map(_stat, pids) if len(stat) > 14 for f in fields)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_server(url: str) -> int | None:
    """The PostgreSQL postmaster's pid when it runs on this machine (the parent of the
    backend serving a connection, read while that backend is there)."""
    engine = db.get_engine(url)
    try:
        with engine.connect() as conn:
            backend = str(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
            stat = _stat(backend)
            name = Path(f"/proc/{backend}/comm").read_text().strip() if stat else ""
    finally:
        engine.dispose()
    return int(stat[1]) if name.startswith("postgres") else None


class CpuMeter:
    """CPU seconds used by the server's processes, PostgreSQL's and this process."""

    def __init__(self, server_group: int, postmaster: int | None):
        self.server_group, self.postmaster = server_group, postmaster

    def read(self) -> tuple[float, float, float]:
        postgres = 0.0
        if self.postmaster:  # its backends come and go with the server's connection pools
            postgres = cpu_seconds([str(self.postmaster)], reaped=True) + cpu_seconds(processes(1, self.postmaster))
        return cpu_seconds(processes(2, self.server_group)), postgres, time.process_time()


# -- load ----------------------------------------------------------------------------
#
# The client is a few lines of asyncio in this one process over keep-alive HTTP/1.1
# connections, with each request's bytes made before the clock starts. A general-purpose
# client (httpx, a thread per connection) spent about 2 ms of CPU per request here: on
# two cores the load generator took the CPU the server needs. This one spends about 0.3 ms.

#: A keep-alive connection to the server.
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def request_bytes(base: str, token: str, path: str, params: dict) -> bytes:
    """A whole ``GET`` request as sent on the wire."""
    host = urllib.parse.urlsplit(base).netloc
    return (f"GET {path}?{urllib.parse.urlencode(params)} HTTP/1.1\r\nHost: {host}\r\n"
            f"X-Auth-Token: {token}\r\nAccept: application/json\r\n\r\n").encode()


async def connect(base: str) -> Connection:
    address = urllib.parse.urlsplit(base)
    return await asyncio.open_connection(address.hostname, address.port)  # asyncio sets TCP_NODELAY


async def exchange(connection: Connection, request: bytes) -> int:
    """Send one request and read its whole response (``Content-Length`` framed); its status."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
    if length is None:
        raise ValueError(f"response without Content-Length: {head[:200]!r}")
    await reader.readexactly(int(length[1]))
    return int(head[9:12])


class Connections:
    """Idle keep-alive connections to reuse; a new one when none is idle."""

    def __init__(self, base: str):
        self.base, self.idle, self.opened = base, [], 0
        self.failures: dict[str, int] = {}

    def reusable(self) -> Connection | None:
        """An idle connection the server has not closed (it closes those idle too long)."""
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def attempt(self, connection: Connection | None, request: bytes) -> int | BaseException:
        """The status of ``request`` on ``connection`` (a new one when None), else the
        error (the connection is then closed)."""
        try:
            if connection is None:
                connection, self.opened = await asyncio.wait_for(connect(self.base), HTTP_TIMEOUT), self.opened + 1
            status = await asyncio.wait_for(exchange(connection, request), HTTP_TIMEOUT)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError) as error:
            if connection is not None:
                connection[1].close()
            return error
        self.idle.append(connection)
        return status

    async def send(self, request: bytes) -> int:
        """The status of ``request``, 0 when it failed. A reused connection that the
        server closed as it was taken is replaced once (as HTTP clients do for requests
        that change nothing)."""
        reused = self.reusable()
        answer = await self.attempt(reused, request) if reused is not None else None
        if answer is None or isinstance(answer, ConnectionError | asyncio.IncompleteReadError):
            answer = await self.attempt(None, request)
        if isinstance(answer, BaseException):
            self.failures[type(answer).__name__] = self.failures.get(type(answer).__name__, 0) + 1
            return 0
        return answer

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def latencies(connections: Connections, requests: list[bytes]) -> tuple[list[float], int]:
    """One request at a time; the seconds each took, and how many failed."""
    times, errors = [], 0
    deadline = time.monotonic() + LATENCY_SECONDS
    for request in requests:
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        status = await connections.send(request)
        times.append(time.perf_counter() - started)
        errors += status != 200
    return times, errors


async def offered_load(base: str, requests: list[tuple[str, bytes]]) -> dict:
    """Send ``requests`` at ``RATE`` per second from a fixed schedule (open loop): each
    is due at ``start + i / RATE`` whatever happened to the others, on an idle
    connection or a new one (at most ``MAX_CONNECTIONS`` at once; lateness counts the
    wait for one). Requests not answered by ``LOAD_SECONDS`` plus two timeouts are
    counted as not sent."""
    connections, results, tasks = Connections(base), [], set()
    at_once = asyncio.Semaphore(MAX_CONNECTIONS)
    start = time.perf_counter() + 0.5
    stop_at = start + LOAD_SECONDS + 2 * HTTP_TIMEOUT

    async def send(kind: str, request: bytes, due: float) -> None:
        async with at_once:
            sent = time.perf_counter()
            status = await connections.send(request)
            results.append((kind, status, time.perf_counter() - sent, sent - due, time.perf_counter()))

    for i, (kind, request) in enumerate(requests):
        due = start + i / RATE
        if time.perf_counter() > stop_at:
            break
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(send(kind, request, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:  # those still waiting then are cancelled as asyncio.run returns
        await asyncio.wait(tasks, timeout=max(0.0, stop_at - time.perf_counter()))
    connections.close()
    ok = [r for r in results if r[1] == 200]
    elapsed = max((r[4] for r in results), default=start) - start
    return {"ok": len(ok), "failed": len(results) - len(ok), "unsent": len(requests) - len(results),
            "connections": connections.opened, "errors": connections.failures,
            "rate": len(ok) / elapsed if elapsed > 0 else 0.0, "late_p99": percentile([r[3] for r in results], 0.99),
            "by_kind": {kind: [r[2] for r in ok if r[0] == kind] for kind in sorted({r[0] for r in results})}}


def mixed_requests(rng: random.Random, sample: dict[str, list[str]], n: int) -> list[tuple[str, str, dict]]:
    """Objects by id (60 %), instance graphs (25 %), a host's instances (15 %)."""
    chosen = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.60:
            chosen.append(("object", "/inventory", {"env_name": ENV, "id": rng.choice(sample["ids"])}))
        elif roll < 0.85:
            chosen.append(("graph", "/graph", {"env_name": ENV, "focal_point": rng.choice(sample["instances"])}))
        else:
            chosen.append(("children", "/inventory",
                           {"env_name": ENV, "parent_id": f"{rng.choice(sample['hosts'])}-instances"}))
    return chosen


# -- figures -------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def one_at_a_time(base: str, token: str, sample: dict[str, list[str]], rng: random.Random) -> list[str]:
    by_id = [request_bytes(base, token, "/inventory", {"env_name": ENV, "id": rng.choice(sample["ids"])})
             for _ in range(LATENCY_REQUESTS)]
    graphs = [request_bytes(base, token, "/graph", {"env_name": ENV, "focal_point": rng.choice(sample["instances"])})
              for _ in range(LATENCY_REQUESTS)]

    async def measure() -> list[str]:
        connections = Connections(base)
        await latencies(connections, by_id[:200] + graphs[:200])  # warm the pools and the caches
        lines = []
        for what, requests, target in (("GET /inventory?id=", by_id, 0.005), ("GET /graph instance", graphs, 0.030)):
            times, errors = await latencies(connections, requests)
            p50 = percentile(times, 0.5)
            lines.append(f"{what:<19} ({len(times)} one at a time): p50 {ms(p50)}, p99 {ms(percentile(times, 0.99))}, "
                         f"{errors} errors (target p50 < {target * 1000:.0f} ms: {verdict(p50 < target)})")
        connections.close()
        return lines

    return asyncio.run(measure())


def sustained(base: str, token: str, sample: dict[str, list[str]], rng: random.Random, meter: CpuMeter) -> list[str]:
    requests = [(kind, request_bytes(base, token, path, params))
                for kind, path, params in mixed_requests(rng, sample, RATE * LOAD_SECONDS)]
    load_before, before = os.getloadavg()[0], meter.read()
    load = asyncio.run(offered_load(base, requests))
    after, served = meter.read(), max(1, load["ok"] + load["failed"])
    server, postgres, client = ((b - a) / served for a, b in zip(before, after, strict=True))
    met = load["rate"] >= RATE * 0.98 and load["failed"] + load["unsent"] == 0
    failures = f" (failures: {load['errors']})" if load["errors"] else ""
    lines = [
        f"mixed load offered at {RATE} req/s for {LOAD_SECONDS} s ({len(requests):,} requests, one asyncio client "
        f"process, {load['connections']} connections): achieved {load['rate']:,.0f} req/s, {load['failed']} failed, "
        f"{load['unsent']} not sent in time{failures}, send lateness p99 {ms(load['late_p99'])} "
        f"(target {RATE} req/s, 0 errors: {verdict(met)})",
        *(f"  under load, {kind:<8} ({len(times):>5}): p50 {ms(percentile(times, 0.5))}, "
          f"p99 {ms(percentile(times, 0.99))}" for kind, times in load["by_kind"].items()),
        f"  CPU per request: server {ms(server)}, PostgreSQL {ms(postgres)}, load generator {ms(client)}; "
        f"{RATE} req/s needs {RATE * (server + postgres + client):.1f} of {os.cpu_count()} cores",
        f"load average (1 min) {load_before:.2f} before the mixed load, {os.getloadavg()[0]:.2f} after "
        f"(the machine is shared)",
    ]
    return lines


def run(url: str) -> list[str]:
    engine = db.get_engine(url)
    db.upgrade(engine)
    topo = build_topology(ENV, OBJECTS)
    seconds = fill(engine, topo)
    users = Users(engine)
    user = users.add("bench-reader", secrets.token_urlsafe(16), READ_ONLY, replace=True)
    token = users.issue_token(user, "credentials").token
    engine.dispose()
    lines = [f"inventory: {len(topo.objects):,} objects, {len(topo.links):,} links, {len(topo.cliques):,} instance "
             f"cliques, stored in bulk in {sum(seconds.values()):.0f} s ("
             + ", ".join(f"{what} {s:.0f} s" for what, s in seconds.items()) + f"); calipso serve --workers {WORKERS}"]
    sample = {"ids": [doc["id"] for doc in topo.objects], "instances": [focal["id"] for focal, _, _ in topo.cliques],
              "hosts": [doc["id"] for doc in topo.objects if doc["type"] == "host"]}
    del topo  # the load generator should not walk 100,000 documents at each garbage collection
    gc.collect()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="calipso-bench-api-") as tmp, \
            served(url, WORKERS, Path(tmp) / "serve.log") as (base, group):
        lines += one_at_a_time(base, token, sample, rng)
        lines += sustained(base, token, sample, rng, CpuMeter(group, postgres_server(url)))
    return lines
