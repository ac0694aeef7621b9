"""The SSH connection pool against the lab's SSH server (real paramiko on both ends)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import paramiko
import pytest

from calipso_core.errors import (
    CommandTimeout,
    ConfigError,
    HostKeyMismatch,
    HostUnreachable,
    SshAuthenticationFailed,
)
from calipso_core.lab.ssh import CommandOutput, LabSshServer
from calipso_core.sshclient import KnownHosts, SshPool, SshSettings
from calipso_core.testing import wait_until

USER, PASSWORD = "admin", "pool-secret-7f3a"


def simulated_shell(name: str):
    def run(command: str) -> CommandOutput:
        word, _, arg = command.partition(" ")
        if word == "hostname":
            return CommandOutput(0, f"{name}\n")
        if word == "fail":
            return CommandOutput(int(arg), "", f"{name}: error {arg}\n")
        if word == "bytes":
            return CommandOutput(0, "o" * int(arg))
        if word == "errbytes":
            return CommandOutput(0, "done\n", "e" * int(arg))
        return CommandOutput(127, "", f"bash: line 1: {word}: command not found\n")

    return run


def make_lab(key_dir, count: int = 4, **options) -> LabSshServer:
    hosts = {f"node-{i:03d}": simulated_shell(f"node-{i:03d}") for i in range(count)}
    return LabSshServer(hosts, USER, PASSWORD, key_dir=key_dir, **options)


@pytest.fixture
def lab(tmp_path):
    with make_lab(tmp_path / "keys") as server:
        yield server


def pool_config(lab: LabSshServer, known_hosts, *, direct: bool = False) -> dict:
    return {**lab.client_config(direct=direct), "known_hosts": str(known_hosts)}


@pytest.mark.parametrize("direct", [False, True], ids=["jumped", "direct"])
def test_commands_return_output_exit_status_and_stderr(lab, tmp_path, direct):
    with SshPool(pool_config(lab, tmp_path / "known_hosts", direct=direct)) as pool:
        result = pool.run("node-001", "hostname")
        assert (result.host, result.command, result.exit_status, result.stdout, result.stderr) == (
            "node-001", "hostname", 0, "node-001\n", "")
        assert result.duration > 0
        failed = pool.run("node-002", "fail 4")
        assert (failed.exit_status, failed.stdout, failed.stderr) == (4, "", "node-002: error 4\n")
        assert pool.run("node-002", "ifconfig").exit_status == 127


def test_route_through_jump_or_straight():
    base = {"host": "10.0.0.1", "port": 2222, "user": "u", "pwd": "s3cr3t-pw", "known_hosts": "kh"}
    hosts = {"compute-1": {"host": "192.168.1.5", "port": 2200, "user": "ops"}}
    jumped = SshSettings.from_config({**base, "hosts": hosts})
    assert jumped.route("compute-1").via_jump and jumped.route("compute-1").user == "ops"
    assert (jumped.route("other").address, jumped.route("other").port, jumped.route("other").via_jump) == (
        "other", 22, True)
    assert not jumped.route("10.0.0.1").via_jump and jumped.route("10.0.0.1").port == 2222
    assert not SshSettings.from_config(base).route("compute-1").via_jump
    straight = SshSettings.from_config({**base, "hosts": hosts}, jump=False).route("compute-1")
    assert (straight.address, straight.port, straight.via_jump) == ("192.168.1.5", 2200, False)
    assert "s3cr3t-pw" not in repr(jumped)
    with pytest.raises(ConfigError) as incomplete:
        SshSettings.from_config({"host": "10.0.0.1"})
    assert any("user" in problem for problem in incomplete.value.errors)
    assert any("pwd or key" in problem for problem in incomplete.value.errors)


def test_many_hosts_at_once_through_one_pool(tmp_path):
    baseline = threading.active_count()
    with make_lab(tmp_path / "keys", count=60) as lab, SshPool(pool_config(lab, tmp_path / "known_hosts")) as pool:
        names = sorted(lab.hosts) * 3
        with ThreadPoolExecutor(16) as workers:
            results = list(workers.map(lambda name: pool.run(name, "hostname"), names))
        assert [r.stdout for r in results] == [f"{name}\n" for name in names]
    assert wait_until(lambda: threading.active_count() <= baseline, timeout=15)


def test_new_host_keys_are_recorded_and_trusted_next_time(lab, tmp_path):
    known_hosts = tmp_path / "ssh" / "known_hosts"
    reported: list[tuple[str, str]] = []
    pool = SshPool(pool_config(lab, known_hosts), on_new_host_key=lambda *seen: reported.append(seen))
    with pool, ThreadPoolExecutor(4) as workers:
        list(workers.map(lambda name: pool.run(name, "hostname"), lab.hosts))
    jump_name = f"[127.0.0.1]:{lab.ports.jump}"
    expected = {jump_name: lab.host_key(None), **{name: lab.host_key(name) for name in lab.hosts}}
    assert sorted(reported) == sorted((name, key.fingerprint) for name, key in expected.items())
    recorded = paramiko.HostKeys(str(known_hosts))
    assert {name: recorded.lookup(name)["ssh-ed25519"] for name in expected} == expected
    assert len(known_hosts.read_text().splitlines()) == len(expected)

    again: list = []
    with SshPool(pool_config(lab, known_hosts), on_new_host_key=lambda *seen: again.append(seen)) as pool:
        assert pool.run("node-003", "hostname").stdout == "node-003\n"
    assert again == []


def test_a_changed_host_key_is_refused(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    with make_lab(tmp_path / "keys") as lab, SshPool(pool_config(lab, known_hosts)) as pool:
        pool.run("node-000", "hostname")
        old = lab.host_key("node-000").fingerprint
    with make_lab(tmp_path / "reinstalled-keys") as lab, SshPool(pool_config(lab, known_hosts)) as pool:
        with pytest.raises(HostKeyMismatch) as refused:
            pool.run("node-000", "hostname")
        new = lab.host_key("node-000").fingerprint
    assert (refused.value.host, refused.value.expected_fingerprint, refused.value.got_fingerprint) == (
        "node-000", old, new)
    assert old in str(refused.value) and new in str(refused.value)


def test_a_wrong_recorded_key_is_refused_in_direct_mode(lab, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    wrong = paramiko.ECDSAKey.generate()
    entries = paramiko.HostKeys()
    entries.add(f"[127.0.0.1]:{lab.ports.hosts['node-001']}", wrong.get_name(), wrong)
    entries.save(str(known_hosts))
    with SshPool(pool_config(lab, known_hosts, direct=True)) as pool, pytest.raises(HostKeyMismatch) as refused:
        pool.run("node-001", "hostname")
    assert refused.value.expected_fingerprint == wrong.fingerprint


@pytest.mark.parametrize("direct", [False, True], ids=["jumped", "direct"])
def test_unreachable_host_is_named(lab, tmp_path, direct):
    lab.set_fault("node-002", unreachable=True)
    config = pool_config(lab, tmp_path / "known_hosts", direct=direct)
    with SshPool(config, connect_attempts=2, retry_backoff=0.01) as pool:
        with pytest.raises(HostUnreachable) as failed:
            pool.run("node-002", "hostname")
        assert failed.value.host == "node-002" and "node-002" in str(failed.value)
        assert pool.run("node-001", "hostname").exit_status == 0
        lab.clear_faults()
        assert pool.run("node-002", "hostname").stdout == "node-002\n"


def test_a_host_going_down_later_is_reported_then_reconnected(lab, tmp_path):
    with SshPool(pool_config(lab, tmp_path / "known_hosts"), connect_attempts=1) as pool:
        assert pool.run("node-000", "hostname").exit_status == 0
        lab.set_fault("node-000", unreachable=True)
        with pytest.raises(HostUnreachable):
            pool.run("node-000", "hostname")
        lab.clear_faults("node-000")
        assert pool.run("node-000", "hostname").stdout == "node-000\n"


def test_a_slow_command_times_out_and_the_host_stays_usable(lab, tmp_path):
    with SshPool(pool_config(lab, tmp_path / "known_hosts")) as pool:
        pool.run("node-003", "hostname")
        lab.set_fault("node-003", slow_seconds=3.0)
        started = time.monotonic()
        with pytest.raises(CommandTimeout) as late:
            pool.run("node-003", "hostname", timeout=0.4)
        assert time.monotonic() - started < 2.5
        assert (late.value.host, late.value.command, late.value.seconds) == ("node-003", "hostname", 0.4)
        lab.clear_faults("node-003")
        assert pool.run("node-003", "hostname").stdout == "node-003\n"


def test_large_stdout_and_stderr_arrive_whole(lab, tmp_path):
    size = 3 * 1024 * 1024 + 77
    with SshPool(pool_config(lab, tmp_path / "known_hosts")) as pool:
        assert pool.run("node-000", f"bytes {size}").stdout == "o" * size
        result = pool.run("node-000", f"errbytes {size}")
        assert (result.stdout, result.stderr) == ("done\n", "e" * size)


def test_latency_is_felt_by_the_client(tmp_path):
    with make_lab(tmp_path / "keys", latency_ms=(60, 80)) as lab, SshPool(pool_config(lab, tmp_path / "kh")) as pool:
        pool.run("node-000", "hostname")
        assert min(pool.run("node-000", "hostname").duration for _ in range(3)) >= 0.06


def test_channels_per_host_are_capped(lab, tmp_path):
    lab.set_fault("node-001", slow_seconds=0.2)
    with SshPool(pool_config(lab, tmp_path / "known_hosts"), channels_per_host=2) as pool:
        pool.run("node-001", "hostname")
        started = time.monotonic()
        with ThreadPoolExecutor(6) as workers:
            list(workers.map(lambda _: pool.run("node-001", "hostname"), range(6)))
        assert time.monotonic() - started >= 0.6  # 6 commands, 2 at a time, 0.2 s each


def test_login_with_a_key_file_and_a_refused_login(tmp_path):
    user_key = paramiko.ECDSAKey.generate()
    key_file = tmp_path / "id_ecdsa"
    user_key.write_private_key_file(str(key_file))
    with make_lab(tmp_path / "keys", authorized_key=user_key) as lab:
        config = {**pool_config(lab, tmp_path / "known_hosts"), "key": str(key_file)}
        del config["pwd"]
        with SshPool(config) as pool:
            assert pool.run("node-002", "hostname").stdout == "node-002\n"
        wrong = {**pool_config(lab, tmp_path / "known_hosts", direct=True), "pwd": "not-the-password"}
        with SshPool(wrong) as pool, pytest.raises(SshAuthenticationFailed) as refused:
            pool.run("node-002", "hostname")
    assert refused.value.host == "node-002" and "not-the-password" not in str(refused.value)


def test_passwords_never_reach_the_log(lab, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with SshPool(pool_config(lab, tmp_path / "known_hosts")) as pool:
        pool.run("node-000", "hostname")
    assert caplog.records and any("trusting new host key" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if PASSWORD in r.getMessage()]


def test_concurrent_writers_keep_every_known_host(tmp_path):
    path = tmp_path / "known_hosts"
    writers = [KnownHosts(path), KnownHosts(path)]  # as two processes would
    keys = [paramiko.ECDSAKey.generate() for _ in range(40)]

    def trust(index: int) -> None:
        writers[index % 2].trust(f"host-{index}", keys[index])

    with ThreadPoolExecutor(8) as workers:
        list(workers.map(trust, range(40)))
    recorded = paramiko.HostKeys(str(path))
    assert all(recorded.lookup(f"host-{i}")[keys[i].get_name()] == keys[i] for i in range(40))


def test_commands_on_the_jump_host_itself(tmp_path):
    with make_lab(tmp_path / "keys", jump_host="node-000") as lab, SshPool(pool_config(lab, tmp_path / "kh")) as pool:
        assert pool.run("127.0.0.1", "hostname").stdout == "node-000\n"
        assert pool.run("node-001", "hostname").stdout == "node-001\n"


def test_an_unusable_key_file_is_a_configuration_error(lab, tmp_path):
    config = {**pool_config(lab, tmp_path / "known_hosts"), "key": str(tmp_path / "missing_id")}
    with pytest.raises(ConfigError, match="missing_id"):
        SshPool(config)


def test_hashed_known_hosts_entries_are_honoured(lab, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    name = f"[127.0.0.1]:{lab.ports.hosts['node-001']}"
    key = lab.host_key("node-001")
    known_hosts.write_text(f"# kept by hand\n{paramiko.HostKeys.hash_host(name)} {key.get_name()} {key.get_base64()}\n")
    reported: list = []
    pool = SshPool(pool_config(lab, known_hosts, direct=True), on_new_host_key=lambda *seen: reported.append(seen))
    with pool:
        assert pool.run("node-001", "hostname").exit_status == 0
    assert reported == []
    assert known_hosts.read_text().startswith("# kept by hand\n|1|")


def test_a_connection_cut_during_a_command_is_reported(tmp_path):
    started, release = threading.Event(), threading.Event()

    def blocking(command: str) -> CommandOutput:
        started.set()
        release.wait(10)
        return CommandOutput(0, "too late\n")

    lab = LabSshServer({"node-000": blocking}, USER, PASSWORD, key_dir=tmp_path / "keys")
    with lab, SshPool(pool_config(lab, tmp_path / "kh"), connect_attempts=1) as pool, ThreadPoolExecutor(1) as runner:
        try:
            running = runner.submit(pool.run, "node-000", "sleep 100", 10)
            assert started.wait(10)
            lab.set_fault("node-000", unreachable=True)
            with pytest.raises(HostUnreachable) as lost:
                running.result(timeout=10)
            assert lost.value.host == "node-000"
        finally:
            release.set()


def test_the_pool_prefers_aes_gcm(lab, tmp_path):
    with SshPool(pool_config(lab, tmp_path / "known_hosts")) as pool:
        assert pool.run("node-000", "hostname").stdout == "node-000\n"
        transport = pool._connections["node-000"].client.get_transport()
        assert transport.local_cipher == transport.remote_cipher == "aes128-gcm@openssh.com"


def test_a_connection_that_ran_its_share_is_replaced_once_idle(tmp_path):
    """paramiko remembers every channel a connection opened: a pool kept open for months
    replaces its connections now and then, without cutting a command still running."""
    started, release = threading.Event(), threading.Event()

    def shell(command: str) -> CommandOutput:
        if command == "wait":
            started.set()
            release.wait(10)
        return CommandOutput(0, f"{command}\n")

    lab = LabSshServer({"node-000": shell}, USER, PASSWORD, key_dir=tmp_path / "keys")
    with lab, SshPool(pool_config(lab, tmp_path / "kh", direct=True), channels_per_connection=3) as pool, \
            ThreadPoolExecutor(1) as runner:
        assert [pool.run("node-000", f"one {i}").stdout for i in range(2)] == ["one 0\n", "one 1\n"]
        first = pool._connections["node-000"].client.get_transport()
        waiting = runner.submit(pool.run, "node-000", "wait")  # the first connection's third command
        assert started.wait(10)
        assert pool.run("node-000", "two").stdout == "two\n"
        second = pool._connections["node-000"].client.get_transport()
        assert second is not first and first.is_active()  # still running "wait"
        release.set()
        assert waiting.result(timeout=10).stdout == "wait\n"
        assert wait_until(lambda: not first.is_active(), timeout=5, every=0.01)
        assert [pool.run("node-000", f"three {i}").stdout for i in range(7)] == [f"three {i}\n" for i in range(7)]
        assert len(pool._connections["node-000"].client.get_transport().channels_seen) <= 3


def test_the_jump_hosts_connection_is_kept_while_hosts_are_reached_through_it(tmp_path):
    with make_lab(tmp_path / "keys", jump_host="node-000") as lab, \
            SshPool(pool_config(lab, tmp_path / "kh"), channels_per_connection=2) as pool:
        for _ in range(5):
            assert pool.run("node-001", "hostname").stdout == "node-001\n"
            assert pool.run("127.0.0.1", "hostname").stdout == "node-000\n"
        jump = pool._connections["127.0.0.1"].client.get_transport()
        assert pool.run("node-001", "hostname").stdout == "node-001\n"
        assert pool._connections["127.0.0.1"].client.get_transport() is jump
