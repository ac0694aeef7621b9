"""The message bus on a real RabbitMQ: OpenStack-style publishers, Calipso's pool listener,
acknowledgement after the handler, requeue with back-off, pools, queues declared early."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from calipso_core import messaging
from calipso_core.messaging import (
    Backoff,
    MessagingError,
    NotificationListener,
    NotificationPublisher,
    RetryLater,
    bus_settings,
    declare_pool_queues,
    pool_name,
    transport_url,
)
from calipso_core.testing import wait_until

pytestmark = pytest.mark.timeout(120)


class Inbox:
    """A handler that keeps what it gets and lets a test wait for a count."""

    def __init__(self, fail: dict[str, int] | None = None, error: Exception | None = None):
        self.received: list = []
        self.fail = dict(fail or {})  # event_type -> how many more times to raise RetryLater
        self.error = error
        self._cond = threading.Condition()

    def __call__(self, notification) -> None:
        with self._cond:
            self.received.append(notification)
            self._cond.notify_all()
            if self.error is not None:
                raise self.error
            if self.fail.get(notification.event_type, 0) > 0:
                self.fail[notification.event_type] -= 1
                raise RetryLater("the inventory is busy")

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


def env_name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(rabbitmq):
    return bus_settings(rabbitmq.amqp_section())


@pytest.fixture
def nova(settings):
    with NotificationPublisher(settings, "nova") as publisher:
        yield publisher


@pytest.fixture
def neutron(settings):
    with NotificationPublisher(settings, "neutron") as publisher:
        yield publisher


def test_transport_url_quotes_credentials_and_virtual_host():
    amqp = {"host": "mq", "port": 5672, "user": "calipso", "pwd": "p@ss:w/rd%"}
    assert transport_url(amqp) == "rabbit://calipso:p%40ss%3Aw%2Frd%25@mq:5672/"
    assert transport_url({**amqp, "virtual_host": "openstack"}).endswith("@mq:5672/openstack")
    assert transport_url({**amqp, "virtual_host": "/"}).endswith("@mq:5672/")


def test_settings_from_amqp_section_hide_the_password():
    settings = bus_settings({"host": "mq", "port": 5672, "user": "u", "pwd": "secret", "exchanges": ["nova"],
                             "topic": "versioned_notifications", "durable_queues": True})
    assert settings.exchanges == ("nova",) and settings.topic == "versioned_notifications"
    assert settings.durable_queues and not settings.quorum_queues and settings.prefetch > 16
    assert "secret" not in repr(settings) and settings.broker == "mq:5672/"
    assert pool_name("lab") == "calipso-lab"
    assert pool_name("lab", "versioned_notifications") == "calipso-lab-versioned_notifications"


def test_nova_and_neutron_notifications_reach_the_pool(rabbitmq, settings, nova, neutron):
    inbox, env = Inbox(), env_name()
    with NotificationListener(settings, env, inbox):
        nova.send("compute.node-1", "compute.instance.create.end", "INFO", {"instance_id": "vm-1"})
        neutron.send("network.controller", "network.create.end", "INFO", {"network": {"id": "net-1"}})
        received = inbox.wait_for(2)
    assert {(n.publisher_id, n.event_type) for n in received} == {
        ("compute.node-1", "compute.instance.create.end"), ("network.controller", "network.create.end")}
    by_type = {n.event_type: n for n in received}
    assert by_type["network.create.end"].payload == {"network": {"id": "net-1"}}
    assert all(n.priority == "INFO" and n.timestamp for n in received)
    assert len({n.message_id for n in received}) == 2
    queue = rabbitmq.queues()[pool_name(env)]
    assert queue["messages_ready"] == 0 and queue["messages_unacknowledged"] == 0


def test_transient_failure_is_requeued_until_the_handler_succeeds(rabbitmq, settings, nova):
    inbox, env = Inbox(fail={"compute.instance.update": 2}), env_name()
    with NotificationListener(settings, env, inbox, backoff=Backoff(first=0.05)):
        nova.send("compute.node-1", "compute.instance.update", "INFO", {"state": "active"})
        received = inbox.wait_for(3)
    assert len(inbox.received) == 3 and len({n.message_id for n in received}) == 1  # the same message 3 times
    queue = rabbitmq.queues()[pool_name(env)]  # acked after the success: nothing left, ready or unacked
    assert queue["messages_ready"] == 0 and queue["messages_unacknowledged"] == 0


def test_a_message_the_handler_rejects_is_acked_and_reported(rabbitmq, settings, nova):
    rejected = []
    inbox, env = Inbox(error=KeyError("instance_id")), env_name()
    listener = NotificationListener(settings, env, inbox, on_rejected=lambda n, exc: rejected.append((n, exc)))
    with listener:
        nova.send("compute.node-1", "compute.instance.update", "INFO", {})
        assert wait_until(lambda: rejected)
    assert len(inbox.received) == 1 and isinstance(rejected[0][1], KeyError)
    assert rabbitmq.queues()[pool_name(env)]["messages_ready"] == 0


def test_a_rejection_that_cannot_be_recorded_is_retried(rabbitmq, settings, nova):
    recorded, attempts = [], []

    def record(note, exc):
        attempts.append(note.message_id)
        if len(attempts) == 1:
            raise ConnectionError("the messages table is unreachable")
        recorded.append(note.message_id)

    inbox, env = Inbox(error=ValueError("malformed")), env_name()
    with NotificationListener(settings, env, inbox, on_rejected=record, backoff=Backoff(first=0.05)):
        nova.send("compute.node-1", "compute.instance.update", "INFO", {})
        assert wait_until(lambda: recorded)
    assert len(inbox.received) == 2 and len(set(attempts)) == 1 and recorded == attempts[:1]
    assert rabbitmq.queues()[pool_name(env)]["messages_ready"] == 0


def test_backoff_doubles_per_message_up_to_a_ceiling():
    backoff = Backoff(first=0.5, longest=3.0, remember=2)
    assert [backoff.next_delay("a") for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.next_delay("b") == 0.5
    backoff.forget("a")
    assert backoff.next_delay("a") == 0.5
    backoff.next_delay("c")  # only the two most recent ids are remembered
    assert backoff.next_delay("b") == 0.5


def test_two_pools_each_get_a_copy(settings, neutron):
    first, second = Inbox(), Inbox()
    with NotificationListener(settings, env_name(), first), NotificationListener(settings, env_name(), second):
        for n in range(5):
            neutron.send("network.controller", "port.update.end", "INFO", {"port": {"id": f"p{n}"}})
        assert len(first.wait_for(5)) == 5
        assert len(second.wait_for(5)) == 5
    assert [n.payload for n in first.received] == [n.payload for n in second.received]


def test_notifications_sent_before_the_listener_starts_wait_in_the_declared_queue(rabbitmq, settings, nova):
    env = env_name()
    assert declare_pool_queues(settings, env) == pool_name(env)
    for n in range(10):
        nova.send("compute.node-1", "compute.instance.update", "INFO", {"n": n})
    assert wait_until(lambda: rabbitmq.queues()[pool_name(env)]["messages_ready"] == 10)
    inbox = Inbox()
    with NotificationListener(settings, env, inbox):
        received = inbox.wait_for(10)
    assert [n.payload["n"] for n in received] == list(range(10))  # one worker keeps the order


def test_batch_listener_gets_lists_in_arrival_order(settings, neutron):
    batches, done = [], threading.Event()

    def handle(batch):
        batches.append(batch)
        if sum(map(len, batches)) >= 30:
            done.set()

    with NotificationListener(settings, env_name(), handle, batch_size=10, batch_timeout=0.5):
        for n in range(30):
            neutron.send("network.controller", "subnet.update.end", "INFO", {"n": n})
        assert done.wait(30)
    assert [n.payload["n"] for batch in batches for n in batch] == list(range(30))
    assert max(map(len, batches)) > 1


def test_what_arrives_while_a_batch_is_applied_comes_as_one_batch(settings, neutron):
    batches, first, release, done = [], threading.Event(), threading.Event(), threading.Event()

    def handle(batch):
        batches.append([n.payload["n"] for n in batch])
        first.set()
        release.wait(30)  # the worker is busy with the first batch while the rest arrives
        if sum(map(len, batches)) >= 60:
            done.set()

    with NotificationListener(settings, env_name(), handle, batch_size=500, batch_timeout=0.5):
        neutron.send("network.controller", "subnet.update.end", "INFO", {"n": 0})
        assert first.wait(30)
        for n in range(1, 60):  # over about 1.5 s: three batch timeouts
            neutron.send("network.controller", "subnet.update.end", "INFO", {"n": n})
            time.sleep(0.025)
        release.set()
        assert done.wait(30)
    assert batches == [[0], list(range(1, 60))]


def test_after_a_large_batch_the_next_poll_takes_the_backlog(settings, neutron, monkeypatch):
    """A poll takes messages from the connection only for its batch timeout, however many
    wait there; after a large batch the next poll takes them for ``BACKLOG_POLL``."""
    monkeypatch.setattr(messaging, "BACKLOG_BATCH", 2)
    batches, first, release, done = [], threading.Event(), threading.Event(), threading.Event()

    def handle(batch):
        batches.append(len(batch))
        first.set()
        release.wait(30)  # the backlog gathers while the first batch is applied
        if sum(batches) >= 801:
            done.set()

    with NotificationListener(settings, env_name(), handle, batch_size=300, batch_timeout=0.005):
        neutron.send("network.controller", "subnet.update.end", "INFO", {"n": 0})
        assert first.wait(30)
        for n in range(1, 801):
            neutron.send("network.controller", "subnet.update.end", "INFO", {"n": n})
        release.set()
        assert done.wait(60)
    assert batches[0] == 1 and sum(batches) == 801
    assert 300 in batches  # not 5 ms worth of messages, as every poll took before


def test_quorum_queues_are_declared_as_quorum_and_deliver(rabbitmq, settings):
    # Its own exchange and topic: durability must not differ from queues that already exist.
    quorum = bus_settings(settings.url, exchanges=("nova-quorum",), topic="quorum", quorum_queues=True)
    inbox, env = Inbox(), env_name()
    with NotificationListener(quorum, env, inbox), NotificationPublisher(quorum, "nova-quorum") as publisher:
        publisher.send("compute.node-1", "compute.instance.delete.end", "INFO", {"instance_id": "vm-1"})
        assert len(inbox.wait_for(1)) == 1
    queue = rabbitmq.queues()[pool_name(env, "quorum")]
    assert queue["type"] == "quorum" and queue["durable"] is True
    assert pool_name(env, "quorum") == pool_name(env) + "-quorum"


def test_a_dropped_publish_raises(settings, nova):
    nova.send("compute.node-1", "compute.instance.update", "INFO", {})  # the exchange exists, not durable
    durable = bus_settings(settings.url, durable_queues=True)
    with NotificationPublisher(durable, "nova", retry=0) as mismatched, pytest.raises(MessagingError) as err:
        mismatched.send("compute.node-1", "compute.instance.update", "INFO", {})
    assert "compute.instance.update" in str(err.value) and "guest" not in str(err.value)


def test_wrong_password_is_a_clear_error_without_the_password(rabbitmq):
    wrong = bus_settings({**rabbitmq.amqp_section(), "pwd": "not-the-password"})
    listener = NotificationListener(wrong, env_name(), Inbox())
    with pytest.raises(MessagingError) as err:
        listener.start()
    listener.stop()
    assert f"127.0.0.1:{rabbitmq.port}" in str(err.value) and "not-the-password" not in str(err.value)


def test_throughput_of_one_listener(settings, nova):
    count, inbox = 1000, Inbox()
    with NotificationListener(settings, env_name(), inbox):
        began = time.monotonic()
        for n in range(count):
            nova.send("compute.node-1", "compute.instance.update", "INFO", {"n": n})
        sent = time.monotonic()
        received = inbox.wait_for(count, timeout=60)
        drained = time.monotonic()
    assert len(received) == count and len({n.message_id for n in received}) == count
    print(f"published {count / (sent - began):.0f}/s, received end to end {count / (drained - began):.0f}/s")

