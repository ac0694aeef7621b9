"""The lab's SSH server: many simulated Linux hosts in one process, on loopback.

Every lab host listens on its own port; one more port is a jump host that accepts
``direct-tcpip`` channels to any lab host, addressed by host name or by
``<bind address>:<host port>``, and serves the inner SSH connection on the channel itself
(no TCP hop). Commands are answered by plain callables, so plugins decide what a host
says; this module only speaks SSH, and adds latency and faults on request.

How it stays correct and fast with paramiko: one selector thread accepts on every port;
each connection gets one thread for ``start_server`` and its accept loop; channels are held
strongly until their command ends; commands run in one shared pool, never on a transport
thread; a command ends with exit status, EOF, a global request round trip (so the exec
reply is surely out) and only then CLOSE.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import logging
import os
import random
import re
import selectors
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from calipso_core.sshclient import ChannelSocket

log = logging.getLogger(__name__)

JUMP = "@jump"  # the jump host's name in key files and logs; never a lab host name
SEND_TIMEOUT = 60.0  # a client that stops reading for this long loses its command


@dataclass(frozen=True)
class CommandOutput:
    """What a simulated host answers to one command line."""

    exit_status: int
    stdout: str = ""
    stderr: str = ""


CommandHandler = Callable[[str], CommandOutput]


@dataclass(frozen=True)
class HostFaults:
    """Faults of one host: refuse connections, add seconds to every command, or replace
    the stdout of commands matching ``garbage_pattern`` (a regex) with junk lines."""

    unreachable: bool = False
    slow_seconds: float = 0.0
    garbage_pattern: str | None = None


NO_FAULTS = HostFaults()


@dataclass(frozen=True)
class SshPortMap:
    """Where the lab listens: the jump host's port and each host's own port."""

    jump: int
    hosts: Mapping[str, int]


class _LabTransport(paramiko.Transport):
    """A server Transport that wakes rarely: with thousands of threads in one process,
    every periodic wake-up competes for the GIL (paramiko polls ten times a second)."""

    _active_check_timeout = 5.0  # connections are ended by shutting their socket down

    def next_channel(self) -> paramiko.Channel | None:
        """The next channel the client opens, or None once the connection has ended.
        Unlike ``accept(timeout)`` this needs no polling and cannot miss the end: the
        state is read under the lock the end is announced with."""
        with self.lock:
            while self.active and not self.server_accepts:
                self.server_accept_cv.wait(30)
            return self.server_accepts.pop(0) if self.server_accepts else None


def load_host_key(name: str, key_dir: Path | None) -> paramiko.Ed25519Key:
    """The Ed25519 host key of ``name``: read from ``key_dir``, or made through
    ``cryptography`` (paramiko cannot make one) and saved there atomically, owner-only."""
    path = key_dir / f"{quote(name, safe='')}.key" if key_dir else None
    if path and path.exists():
        return paramiko.Ed25519Key(filename=str(path))
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0600
        with os.fdopen(fd, "w") as out:
            out.write(pem)
        os.replace(tmp, path)
    return paramiko.Ed25519Key(file_obj=io.StringIO(pem))


def junk_lines(command: str, count: int) -> str:
    """Printable nonsense, the same for the same command, standing in for corrupt output."""
    rnd = random.Random(command)
    alphabet = "abcdefxyz0123456789 :;#@!%&*()[]{}<>|~^"
    return "".join("".join(rnd.choice(alphabet) for _ in range(rnd.randint(8, 72))) + "\n" for _ in range(count))


class _LabSession(paramiko.ServerInterface):
    """One SSH connection to a lab host (``host``) or to the jump host (``host`` is None)."""

    def __init__(self, lab: LabSshServer, host: str | None, transport: paramiko.Transport):
        self.lab, self.host, self.transport = lab, host, transport
        self.command_host = host if host is not None else lab.jump_host  # whose commands it answers
        self.forwards: dict[int, str] = {}  # channel id -> lab host, set by direct-tcpip
        self._live: set[paramiko.Channel] = set()  # strong refs: paramiko holds channels weakly
        self._live_lock = threading.Lock()
        self._barrier_lock = threading.Lock()  # global_request has one reply slot per transport

    def hold(self, channel: paramiko.Channel) -> None:
        with self._live_lock:
            if not channel.closed:
                self._live.add(channel)

    def release(self, channel: paramiko.Channel) -> None:
        with self._live_lock:
            self._live.discard(channel)

    def cut(self) -> None:
        """End the connection now (a shut-down socket also wakes the transport's read)."""
        if isinstance(self.transport.sock, socket.socket):
            with contextlib.suppress(OSError):
                self.transport.sock.shutdown(socket.SHUT_RDWR)
        self.transport.close()
        with self.transport.lock:  # paramiko announces only an end that the peer caused
            self.transport.server_accept_cv.notify_all()

    def answer(self, channel: paramiko.Channel, command: str) -> None:
        """Run one command (in the lab's pool): output, exit status, EOF, barrier, CLOSE."""
        try:
            output = self.lab.execute(self.command_host, command)
            channel.settimeout(SEND_TIMEOUT)
            if output.stdout:
                channel.sendall(output.stdout.encode())
            if output.stderr:
                channel.sendall_stderr(output.stderr.encode())
            channel.send_exit_status(output.exit_status)
            channel.shutdown_write()
            with self._barrier_lock:  # once the peer answers, our exec reply has gone out
                if self.transport.is_active():
                    self.transport.global_request("barrier@calipso-lab", wait=True)
            channel.close()
        except (paramiko.SSHException, EOFError, OSError) as exc:  # the client went away
            log.debug("lab SSH: %s: answer to %r not delivered: %s", self.command_host, command, exc)
        finally:
            self.release(channel)

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey" if self.lab.authorized_key else "password"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == self.lab.user and hmac.compare_digest(password.encode(), self.lab.password.encode())
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == self.lab.user and (key.get_name(), key.get_base64()) == self.lab.authorized_key
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self.command_host is not None:
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(self, chanid: int, origin, destination) -> int:
        if self.host is not None:
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        target = self.lab.resolve(*destination)
        if target is None or self.lab.faults(target).unreachable:
            return paramiko.OPEN_FAILED_CONNECT_FAILED
        self.forwards[chanid] = target
        return paramiko.OPEN_SUCCEEDED

    def check_channel_pty_request(self, *args) -> bool:
        return True

    def check_channel_env_request(self, *args) -> bool:
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self.hold(channel)
        try:
            self.lab._pool.submit(self.answer, channel, command.decode("utf-8", "replace"))
        except RuntimeError:  # the pool is shut down: the lab is stopping
            self.release(channel)
            return False
        return True


class LabSshServer:
    """Simulated Linux hosts (name -> command handler) reachable over SSH on loopback."""

    def __init__(
        self,
        hosts: Mapping[str, CommandHandler],
        user: str,
        password: str,
        authorized_key: paramiko.PKey | str | None = None,
        key_dir: Path | None = None,
        latency_ms: tuple[float, float] = (0, 0),
        bind: str = "127.0.0.1",
        *,
        jump_host: str | None = None,
        workers: int = 32,
        max_connections: int = 8192,
    ):
        """``authorized_key``: a public key (or its ``"<type> <base64>"`` line) that may log in
        as ``user``; ``jump_host``: a lab host whose commands the jump host answers (without
        it the jump host only forwards); ``workers``: threads that run commands."""
        self.hosts, self.user, self.password, self.bind = dict(hosts), user, password, bind
        if isinstance(authorized_key, paramiko.PKey):
            authorized_key = f"{authorized_key.get_name()} {authorized_key.get_base64()}"
        self.authorized_key = tuple(authorized_key.split()[:2]) if authorized_key else None
        self.key_dir, self.latency_ms, self.jump_host = key_dir, latency_ms, jump_host
        self.workers, self.max_connections = workers, max_connections
        self._keys: dict[str, paramiko.PKey] = {}
        self._faults: dict[str, HostFaults] = {}
        self._ports: dict[str, int] = {}
        self._by_port: dict[int, str] = {}
        self._jump_port = 0
        self._sessions: set[_LabSession] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._random = random.Random()
        self._listener: threading.Thread | None = None

    def start(self) -> SshPortMap:
        """Open every port and start serving; returns the port map (also ``self.ports``)."""
        self._stopping.clear()
        for name in [JUMP, *self.hosts]:
            self._keys.setdefault(name, load_host_key(name, self.key_dir))
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lab-ssh-command")
        self._selector = selectors.DefaultSelector()
        self._jump_port = self._open_listener(None)
        for name in self.hosts:
            port = self._ports[name] = self._open_listener(name)
            self._by_port[port] = name
        self._listener = threading.Thread(target=self._accept_loop, name="lab-ssh-listener", daemon=True)
        self._listener.start()
        log.info("lab SSH: %d hosts on %s, jump host on port %d", len(self.hosts), self.bind, self._jump_port)
        return self.ports

    def stop(self, timeout: float = 10.0) -> None:
        """Close every listener, connection and thread (waits at most about ``timeout``)."""
        if self._listener is None:
            return
        self._stopping.set()
        self._listener.join(timeout)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
        with self._lock:
            sessions, threads = list(self._sessions), list(self._threads)
        for session in sessions:
            session.cut()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for thread in threads:
            thread.join(timeout)
        self._listener = None
        self._ports.clear()
        self._by_port.clear()

    def __enter__(self) -> LabSshServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def ports(self) -> SshPortMap:
        return SshPortMap(self._jump_port, dict(self._ports))

    def host_key(self, host: str | None = None) -> paramiko.PKey:
        """The host key of ``host`` (the jump host's when None)."""
        return self._keys[JUMP if host is None else host]

    def client_config(self, *, direct: bool = False) -> dict:
        """An environment CLI section that reaches this lab (see ``calipso_core.sshclient``):
        through the jump host by host name, or straight to each host's own port."""
        hosts = {name: {"host": self.bind, "port": port} if direct else {"host": name, "port": 22}
                 for name, port in self._ports.items()}
        return {"host": self.bind, "port": self._jump_port, "user": self.user, "pwd": self.password,
                "hosts": hosts, "jump": not direct}

    def faults(self, host: str) -> HostFaults:
        return self._faults.get(host, NO_FAULTS)

    def set_fault(self, host: str, **changes) -> HostFaults:
        """Change some of ``host``'s faults (fields of ``HostFaults``) while running.
        Making a host unreachable also cuts its open connections, as a crash would."""
        if host not in self.hosts:
            raise KeyError(f"no lab host {host!r}")
        with self._lock:
            faults = self._faults[host] = replace(self.faults(host), **changes)
            doomed = [s for s in self._sessions if s.host == host] if faults.unreachable else []
        for session in doomed:
            session.cut()
        return faults

    def clear_faults(self, host: str | None = None) -> None:
        """Heal ``host``, or every host when None."""
        with self._lock:
            self._faults = {name: f for name, f in self._faults.items() if host not in (None, name)}

    def resolve(self, address: str, port: int) -> str | None:
        """The lab host a jump-host destination names: a host name, or bind address and port."""
        if address in self.hosts:
            return address
        return self._by_port.get(port) if address in (self.bind, "localhost") else None

    def execute(self, host: str, command: str) -> CommandOutput:
        """Answer ``command`` as ``host`` would, with the latency and faults asked for."""
        faults = self.faults(host)
        delay = self._random.uniform(*self.latency_ms) / 1000 + faults.slow_seconds
        if delay > 0 and self._stopping.wait(delay):
            return CommandOutput(255, "", "lab is stopping\n")
        try:
            output = self.hosts[host](command)
        except Exception:
            log.exception("lab SSH: host %s failed to simulate %r", host, command)
            output = CommandOutput(255, "", f"lab: {host} could not simulate this command\n")
        if faults.garbage_pattern and re.search(faults.garbage_pattern, command):
            output = replace(output, stdout=junk_lines(command, max(3, output.stdout.count("\n"))))
        return output

    def _open_listener(self, host: str | None) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.bind, 0))
        sock.listen(4096 if host is None else 1024)
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ, host)
        return sock.getsockname()[1]

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.25):
                self._accept_burst(key.fileobj, key.data)

    def _accept_burst(self, listener: socket.socket, host: str | None) -> None:
        for _ in range(64):  # bounded, so one busy port cannot starve the others
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # EMFILE and the like: pause and go on, never die
                log.warning("lab SSH: accept for %s failed: %s", host or "the jump host", exc)
                self._stopping.wait(0.05)
                return
            if (host is not None and self.faults(host).unreachable) or len(self._threads) >= self.max_connections:
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(sock, host)

    def _spawn(self, sock, host: str | None) -> None:
        thread = threading.Thread(target=self._serve, args=(sock, host), name=f"lab-ssh {host or JUMP}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _serve(self, sock, host: str | None) -> None:
        """Run one connection: key exchange, then accept its channels until it ends."""
        transport = session = None
        try:
            transport = _LabTransport(sock)
            transport.add_server_key(self._keys[JUMP if host is None else host])
            session = _LabSession(self, host, transport)
            with self._lock:
                self._sessions.add(session)
            transport.start_server(server=session)
            while (channel := transport.next_channel()) is not None and not self._stopping.is_set():
                target = session.forwards.pop(channel.get_id(), None)
                if target:
                    self._spawn(ChannelSocket(channel), target)
                else:
                    session.hold(channel)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("lab SSH: connection to %s ended: %s", host or "the jump host", exc)
        finally:
            (transport or sock).close()
            with self._lock:
                self._sessions.discard(session)
                self._threads.discard(threading.current_thread())
