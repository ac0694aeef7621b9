"""The lab's SSH server, exercised with a plain paramiko client over loopback."""

from __future__ import annotations

import io
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from calipso_core.lab.ssh import CommandOutput, LabSshServer
from calipso_core.sshclient import ChannelSocket

USER, PASSWORD = "root", "lab-secret"


def simulated_shell(name: str):
    """A tiny host: ``hostname``, ``fail N``, ``bytes N``, ``boom``; anything else is unknown."""

    def run(command: str) -> CommandOutput:
        word, _, arg = command.partition(" ")
        if word == "hostname":
            return CommandOutput(0, f"{name}\n")
        if word == "fail":
            return CommandOutput(int(arg), "partial\n", f"{name}: failing with {arg}\n")
        if word == "bytes":
            return CommandOutput(0, "y" * int(arg))
        if word == "boom":
            raise RuntimeError("simulator bug")
        return CommandOutput(127, "", f"bash: line 1: {word}: command not found\n")

    return run


def make_lab(tmp_path, count: int = 3, **options) -> LabSshServer:
    hosts = {f"host-{i:02d}": simulated_shell(f"host-{i:02d}") for i in range(count)}
    return LabSshServer(hosts, USER, PASSWORD, key_dir=tmp_path / "keys", **options)


@pytest.fixture
def lab(tmp_path):
    with make_lab(tmp_path) as server:
        yield server


def connect(lab: LabSshServer, port: int, name: str = "127.0.0.1", sock=None, **auth) -> paramiko.SSHClient:
    """A paramiko client that accepts only the host key the lab says ``name`` has;
    ``sock`` may be a jump host's channel."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    host = None if port == lab.ports.jump else lab.resolve(name, port)
    known_as = name if port == 22 else f"[{name}]:{port}"
    client.get_host_keys().add(known_as, "ssh-ed25519", lab.host_key(host))
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    elif isinstance(sock, paramiko.Channel):
        sock = ChannelSocket(sock)
    auth = auth or {"password": PASSWORD}
    try:
        client.connect(name, port, username=USER, sock=sock, timeout=10, look_for_keys=False, allow_agent=False,
                       **auth)
    except Exception:
        client.close()
        raise
    return client


def execute(client: paramiko.SSHClient, command: str) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=10)
    out, err = stdout.read(), stderr.read()
    return stdout.channel.recv_exit_status(), out.decode(), err.decode()


def test_a_host_answers_with_stdout_stderr_and_exit_status(lab):
    client = connect(lab, lab.ports.hosts["host-01"])
    try:
        assert execute(client, "hostname") == (0, "host-01\n", "")
        assert execute(client, "fail 3") == (3, "partial\n", "host-01: failing with 3\n")
        assert execute(client, "ls -l") == (127, "", "bash: line 1: ls: command not found\n")
        status, out, err = execute(client, "boom")
        assert status == 255 and out == "" and "could not simulate" in err
    finally:
        client.close()


def test_the_jump_host_forwards_by_name_and_by_port(lab):
    jump = connect(lab, lab.ports.jump)
    try:
        transport = jump.get_transport()
        by_name = transport.open_channel("direct-tcpip", ("host-02", 22), ("127.0.0.1", 0))
        inner = connect(lab, 22, name="host-02", sock=by_name)
        assert execute(inner, "hostname") == (0, "host-02\n", "")
        inner.close()
        port = lab.ports.hosts["host-00"]
        by_port = transport.open_channel("direct-tcpip", ("127.0.0.1", port), ("127.0.0.1", 0))
        inner = connect(lab, port, sock=by_port)
        assert execute(inner, "hostname") == (0, "host-00\n", "")
        inner.close()
        with pytest.raises(paramiko.ChannelException) as unknown:
            transport.open_channel("direct-tcpip", ("no-such-host", 22), ("127.0.0.1", 0))
        assert unknown.value.code == paramiko.OPEN_FAILED_CONNECT_FAILED
    finally:
        jump.close()


def test_a_lab_host_does_not_forward(lab):
    client = connect(lab, lab.ports.hosts["host-00"])
    try:
        with pytest.raises(paramiko.ChannelException) as refused:
            client.get_transport().open_channel("direct-tcpip", ("host-01", 22), ("127.0.0.1", 0))
        assert refused.value.code == paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
    finally:
        client.close()


def test_wrong_password_is_refused(lab):
    with pytest.raises(paramiko.AuthenticationException):
        connect(lab, lab.ports.hosts["host-00"], password="wrong")


def test_public_key_login(tmp_path):
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    user_key = paramiko.Ed25519Key(file_obj=io.StringIO(pem.decode()))
    stranger = paramiko.ECDSAKey.generate()
    with make_lab(tmp_path, authorized_key=f"{user_key.get_name()} {user_key.get_base64()} me@lab") as lab:
        client = connect(lab, lab.ports.hosts["host-00"], pkey=user_key)
        assert execute(client, "hostname")[1] == "host-00\n"
        client.close()
        with pytest.raises(paramiko.AuthenticationException):
            connect(lab, lab.ports.hosts["host-00"], pkey=stranger)


def test_host_keys_are_ed25519_distinct_and_kept_in_key_dir(tmp_path):
    with make_lab(tmp_path) as first:
        keys = {name: first.host_key(name) for name in first.hosts}
    assert {key.get_name() for key in keys.values()} == {"ssh-ed25519"}
    assert len({key.get_base64() for key in keys.values()}) == len(keys)
    with make_lab(tmp_path) as again:
        assert {name: again.host_key(name) for name in again.hosts} == keys
    other = LabSshServer(first.hosts, USER, PASSWORD, key_dir=tmp_path / "other-keys")
    with other:
        assert other.host_key("host-00") != keys["host-00"]


def test_one_connection_serves_many_threads(lab):
    client = connect(lab, lab.ports.hosts["host-00"])
    connected = threading.active_count()
    try:
        with ThreadPoolExecutor(8) as workers:
            results = list(workers.map(lambda i: execute(client, f"fail {i % 5}"), range(400)))
            assert threading.active_count() <= connected + 8 + 32  # callers + the lab's command pool
        assert results == [(i % 5, "partial\n", f"host-00: failing with {i % 5}\n") for i in range(400)]
    finally:
        client.close()


def test_output_larger_than_the_window_arrives_whole(lab):
    client = connect(lab, lab.ports.hosts["host-01"])
    try:
        size = 3 * 1024 * 1024 + 123
        status, out, _ = execute(client, f"bytes {size}")
        assert status == 0 and out == "y" * size
    finally:
        client.close()


def test_latency_is_added_to_every_command(tmp_path):
    with make_lab(tmp_path, latency_ms=(80, 100)) as lab:
        client = connect(lab, lab.ports.hosts["host-00"])
        try:
            for _ in range(3):
                started = time.monotonic()
                execute(client, "hostname")
                assert time.monotonic() - started >= 0.08
        finally:
            client.close()


def test_unreachable_fault_refuses_and_cuts_connections(lab):
    port = lab.ports.hosts["host-01"]
    client = connect(lab, port)
    lab.set_fault("host-01", unreachable=True)
    deadline = time.monotonic() + 10
    while client.get_transport().is_active() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not client.get_transport().is_active()
    client.close()
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        connect(lab, port)
    jump = connect(lab, lab.ports.jump)
    try:
        with pytest.raises(paramiko.ChannelException):
            jump.get_transport().open_channel("direct-tcpip", ("host-01", 22), ("127.0.0.1", 0))
        lab.clear_faults("host-01")
        client = connect(lab, port)
        assert execute(client, "hostname")[1] == "host-01\n"
        client.close()
    finally:
        jump.close()


def test_slow_and_garbage_faults(lab):
    lab.set_fault("host-02", slow_seconds=0.3, garbage_pattern=r"^host")
    client = connect(lab, lab.ports.hosts["host-02"])
    try:
        started = time.monotonic()
        status, out, _ = execute(client, "hostname")
        assert time.monotonic() - started >= 0.3
        assert status == 0 and out != "host-02\n" and len(out.splitlines()) >= 3
        assert execute(client, "fail 2")[1] == "partial\n"  # not matching: output intact
    finally:
        client.close()


def test_stop_closes_every_port_and_thread(tmp_path):
    baseline = threading.active_count()
    lab = make_lab(tmp_path, count=5)
    ports = lab.start()
    clients = [connect(lab, port) for port in ports.hosts.values()]
    jump = connect(lab, ports.jump)
    inner = connect(lab, 22, "host-00", jump.get_transport().open_channel("direct-tcpip", ("host-00", 22), ("", 0)))
    for client in [*clients, inner]:
        assert execute(client, "hostname")[0] == 0
    lab.stop()
    for client in [inner, *clients, jump]:
        client.close()
    for port in [ports.jump, *ports.hosts.values()]:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still listens"
    deadline = time.monotonic() + 15
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= baseline, [t.name for t in threading.enumerate()]
