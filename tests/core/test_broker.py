"""A private RabbitMQ node: start, stop, restart with durable queues, clear start errors,
and a listener that keeps consuming when the broker restarts under it."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from calipso_core.broker import BrokerError, RabbitBroker, port_accepts
from calipso_core.messaging import NotificationListener, NotificationPublisher, bus_settings, declare_pool_queues
from calipso_core.testing import wait_until

pytestmark = pytest.mark.timeout(300)


def leftovers(broker: RabbitBroker) -> dict[int, str]:
    """Live processes that belong to ``broker`` (its node or its epmd): pid to command line."""
    marks = (broker.node.encode(), f"-port\0{broker.epmd_port}\0".encode())
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if state != "Z" and any(mark in cmdline for mark in marks):
            found[int(proc.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


@pytest.fixture(scope="module")
def broker():
    data = tempfile.mkdtemp(prefix="calipso-broker-test-")
    node = RabbitBroker(data)
    try:
        with node:
            yield node
        assert leftovers(node) == {}
    finally:
        node.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def durable(broker):
    # A private broker: nothing else declared nova/neutron, so they can be durable here.
    return bus_settings(broker.amqp_section(), durable_queues=True)


def test_a_started_node_listens_on_its_own_loopback_ports(broker):
    ports = {broker.port, broker.dist_port, broker.epmd_port}
    assert len(ports) == 3 and all(1024 < p < 32768 for p in ports)
    assert broker.url == f"rabbit://guest:guest@127.0.0.1:{broker.port}/"
    assert broker.running and port_accepts(broker.port) and port_accepts(broker.epmd_port)
    assert broker.node.startswith(f"calipso-{os.getpid()}-") and broker.node.endswith("@localhost")
    assert (broker.data_dir / "mnesia").stat().st_uid == pwd.getpwnam("rabbitmq").pw_uid
    print(f"broker started in {broker.started_in:.1f} s")


def test_durable_queues_keep_their_messages_across_a_restart(broker, durable):
    env = f"t{uuid.uuid4().hex[:8]}"
    queue = declare_pool_queues(durable, env)
    with NotificationPublisher(durable, "nova") as nova, NotificationPublisher(durable, "neutron") as neutron:
        for n in range(10):
            nova.send("compute.node-1", "compute.instance.update", "INFO", {"n": n})
            neutron.send("network.controller", "port.update.end", "INFO", {"n": n})
    assert broker.queues()[queue]["messages_ready"] == 20
    before = leftovers(broker)
    port, node = broker.port, broker.node

    broker.restart()

    assert (broker.port, broker.node) == (port, node)
    after = leftovers(broker)
    assert before and after and not set(before) & set(after)  # the old processes are gone
    survived = broker.queues()[queue]
    assert survived["durable"] is True and survived["messages_ready"] == 20
    received, done = [], threading.Event()

    def handle(note):
        received.append(note)
        if len(received) == 20:
            done.set()

    with NotificationListener(durable, env, handle):
        assert done.wait(60)
    assert sorted(n.payload["n"] for n in received) == sorted(list(range(10)) * 2)


def test_the_listener_handles_messages_redelivered_after_a_restart(broker, durable):
    """oslo's duplicate cache would hold these redelivered messages unacked for good."""
    env, release = f"t{uuid.uuid4().hex[:8]}", threading.Event()
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def handle(note):
        with lock:
            seen[note.message_id] = seen.get(note.message_id, 0) + 1
        release.wait(120)  # the first message holds the only worker while the broker goes

    listener = NotificationListener(durable, env, handle)
    with listener:
        with NotificationPublisher(durable, "nova") as nova:
            for n in range(5):
                nova.send("compute.node-1", "compute.instance.update", "INFO", {"n": n})
        assert wait_until(lambda: len(seen) == 1, timeout=60)
        broker.stop()
        release.set()  # the acks of these five now go to a closed connection
        assert wait_until(lambda: len(seen) == 5, timeout=60)
        broker.start()
        assert wait_until(lambda: len(seen) == 5 and min(seen.values()) >= 2, timeout=90)
        queue = listener.pool
        assert wait_until(lambda: _drained(broker.queues()[queue]), timeout=60, every=0.2)


def test_an_environments_pools_are_drained_whatever_another_one_holds(broker, durable):
    """Not a queue of another environment whose name begins with this one's."""
    env = f"t{uuid.uuid4().hex[:8]}"
    declare_pool_queues(durable, env)
    other = declare_pool_queues(durable, f"{env}-2")
    with NotificationPublisher(durable, "nova") as nova:
        for n in range(3):
            nova.send("compute.node-1", "compute.instance.update", "INFO", {"n": n})
    assert not broker.pools_drained(env)
    received = []
    with NotificationListener(durable, env, received.append):
        assert wait_until(lambda: len(received) == 3, timeout=60)
        assert wait_until(lambda: broker.pools_drained(env), timeout=60, every=0.2)
    assert broker.queues()[other]["messages_ready"] == 3
    assert not broker.pools_drained(f"{env}-2")
    assert not broker.pools_drained(f"{env}-3")  # no queue at all


def _drained(queue: dict) -> bool:
    return queue["messages_ready"] == 0 and queue["messages_unacknowledged"] == 0 and queue["consumers"] == 1


def test_a_port_in_use_is_refused_before_starting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        node = RabbitBroker(tempfile.mkdtemp(prefix="calipso-broker-test-"), port=taken.getsockname()[1])
        with pytest.raises(BrokerError, match=f"127.0.0.1:{node.port} is already in use"):
            node.start()
    assert not node.running
    shutil.rmtree(node.data_dir, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the check applies when root starts the broker")
def test_a_data_dir_the_broker_user_cannot_reach_is_refused(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(BrokerError, match="cannot reach"):
        RabbitBroker(closed / "rmq").start()


def test_a_node_that_does_not_open_its_port_in_time_is_reported_and_cleaned_up():
    node = RabbitBroker(tempfile.mkdtemp(prefix="calipso-broker-test-"), start_timeout=1.0)
    try:
        with pytest.raises(BrokerError, match=r"did not open 127\.0\.0\.1:\d+ within 1 s; log tail:"):
            node.start()
        assert not node.running and leftovers(node) == {}
    finally:
        node.stop()
        shutil.rmtree(node.data_dir, ignore_errors=True)
