"""SSH to an environment's hosts, for discovery and monitoring.

An ``SshPool`` keeps one connection per target host open and runs every command for that
host on it, each on its own channel, from as many threads as the caller likes. Hosts are
reached straight or through the environment's jump host (``direct-tcpip``). Host keys are
checked against a known_hosts file; a host seen for the first time is trusted, recorded
in that file and reported; a host whose key changed is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from calipso_core.errors import (
    CommandTimeout,
    ConfigError,
    HostKeyMismatch,
    HostUnreachable,
    SshAuthenticationFailed,
    SshError,
)

log = logging.getLogger(__name__)

NewHostKeyCallback = Callable[[str, str], None]  # (known_hosts name, SHA256 fingerprint)


@dataclass(frozen=True)
class CommandResult:
    """What one command printed and returned on one host; ``duration`` in seconds."""

    host: str
    command: str
    exit_status: int
    stdout: str
    stderr: str
    duration: float


@dataclass(frozen=True)
class SshRoute:
    """How one host is reached: the address and port to open (from the jump host when
    ``via_jump``), and the user to log in as."""

    host: str
    address: str
    port: int
    user: str
    via_jump: bool


@dataclass(frozen=True)
class SshSettings:
    """The SSH part of an environment's CLI configuration section."""

    jump_address: str
    jump_port: int
    user: str
    known_hosts: Path
    hosts: Mapping[str, Mapping] = field(default_factory=dict)
    jump: bool | None = None
    password: str | None = field(default=None, repr=False)
    key_file: Path | None = None

    @classmethod
    def from_config(cls, section: Mapping, jump: bool | None = None) -> SshSettings:
        """Read ``{"host", "port", "user", "pwd" | "key", "known_hosts", "hosts", "jump"}``;
        ``jump`` given here overrides the section's."""
        problems = [f"{k}: required" for k in ("host", "user", "known_hosts") if not section.get(k)]
        if not section.get("pwd") and not section.get("key"):
            problems.append("pwd or key: one of them is required")
        if problems:
            raise ConfigError("SSH configuration is incomplete", problems)
        return cls(
            jump_address=section["host"], jump_port=int(section.get("port", 22)), user=section["user"],
            known_hosts=Path(section["known_hosts"]).expanduser(), hosts=dict(section.get("hosts") or {}),
            jump=section.get("jump") if jump is None else jump, password=section.get("pwd"),
            key_file=Path(section["key"]).expanduser() if section.get("key") else None,
        )

    @property
    def jump_route(self) -> SshRoute:
        return SshRoute(self.jump_address, self.jump_address, self.jump_port, self.user, via_jump=False)

    def route(self, host: str) -> SshRoute:
        """Where ``host`` is: its ``hosts`` entry, else ``(host, 22)``; through the jump
        host unless told otherwise, or when there are no ``hosts`` entries."""
        if host == self.jump_address:
            return self.jump_route
        entry = self.hosts.get(host, {})
        via_jump = bool(self.hosts) if self.jump is None else self.jump
        address, port = entry.get("host", host), int(entry.get("port", 22))
        return SshRoute(host, address, port, entry.get("user", self.user), via_jump)


class KnownHosts(paramiko.MissingHostKeyPolicy):
    """A known_hosts file shared by every connection of a pool (and by other processes),
    and the policy that trusts a host on first use.

    Lookups use an in-memory copy; newly trusted keys are appended to the file, in batches,
    under an exclusive lock on its folder, by writing a new file and renaming it over the
    old one, so no reader ever sees half a line and concurrent writers never lose one."""

    def __init__(self, path: Path, on_new_key: NewHostKeyCallback | None = None):
        self.path, self.on_new_key = path, on_new_key
        self._keys: dict[str, dict[str, paramiko.PKey]] = {}  # name -> key type -> key
        self._lock = threading.Lock()  # guards the in-memory keys and the pending lines
        self._file_lock = threading.Lock()  # one writer of the file in this process
        self._pending: list[str] = []
        lines = path.read_text().splitlines() if path.exists() else []
        for number, line in enumerate(lines, 1):
            if line.strip() and line.lstrip()[0] not in "#@":  # markers (@revoked...) are not ours to judge
                with contextlib.suppress(paramiko.SSHException, ValueError):
                    entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
                    for name in entry.hostnames if entry else ():
                        self._keys.setdefault(name, {})[entry.key.get_name()] = entry.key

    def expected(self, name: str) -> dict[str, paramiko.PKey]:
        """The recorded keys of ``name`` (known_hosts spelling, also found hashed), by key type."""
        with self._lock:
            return dict(self._lookup(name))

    def _lookup(self, name: str) -> dict[str, paramiko.PKey]:
        found = self._keys.get(name)
        if found is None:  # hashed entries ("|1|salt|hash") are matched one by one
            hashed = (k for k in self._keys if k.startswith("|1|"))
            found = next((self._keys[k] for k in hashed if paramiko.HostKeys.hash_host(name, k) == k), {})
        return found

    def trust(self, name: str, key: paramiko.PKey) -> None:
        """Record ``key`` for ``name`` on first use; refuse one that differs from a key
        another connection recorded meanwhile."""
        with self._lock:
            known = self._lookup(name)
            if known:
                if known.get(key.get_name()) == key:
                    return
                raise paramiko.BadHostKeyException(name, key, known.get(key.get_name()) or next(iter(known.values())))
            self._keys[name] = {key.get_name(): key}
            self._pending.append(f"{name} {key.get_name()} {key.get_base64()}\n")
        self._write_pending()
        log.warning("SSH: trusting new host key of %s on first use: %s (in %s)", name, key.fingerprint, self.path)
        if self.on_new_key:
            self.on_new_key(name, key.fingerprint)

    def missing_host_key(self, client, hostname: str, key: paramiko.PKey) -> None:
        self.trust(hostname, key)

    def _write_pending(self) -> None:
        """Write every pending line (ours, and any that queued meanwhile) before returning."""
        with self._file_lock:
            with self._lock:
                lines, self._pending = self._pending, []
            if not lines:
                return  # another thread wrote ours while we waited
            folder = self.path.parent
            folder.mkdir(parents=True, exist_ok=True)
            lock = os.open(folder, os.O_RDONLY)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)  # against other processes
                text = self.path.read_text() if self.path.exists() else ""
                present = set(text.splitlines(keepends=True))
                text += ("\n" if text and not text.endswith("\n") else "") + "".join(
                    line for line in lines if line not in present)
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}-")
                with os.fdopen(fd, "w") as out:
                    out.write(text)
                os.replace(tmp, self.path)
            finally:
                os.close(lock)  # releases the flock


#: Channel packets larger than paramiko's 32 KiB: a host's answer comes in fewer packets,
#: each costing much the same Python work whatever its size. A server may send smaller
#: ones (OpenSSH keeps to 32 KiB).
MAX_PACKET_SIZE = 256 << 10
#: Commands a kept connection runs before a new one takes over: paramiko remembers every
#: channel a connection ever opened (``Transport.channels_seen``, about 70 bytes each),
#: so a listener's connections, open for months, would otherwise grow without end.
CHANNELS_PER_CONNECTION = 10_000
#: AES-GCM first: its integrity check is done by OpenSSL, where paramiko compares the MACs of
#: the CTR and CBC modes in Python, byte by byte (the others stay as fallbacks).
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


class _PoolTransport(paramiko.Transport):
    """A client Transport that wakes rarely: with hundreds of kept-open connections,
    every periodic wake-up competes for the GIL (paramiko polls ten times a second)."""

    _active_check_timeout = 5.0  # connections are ended by shutting their socket down
    _preferred_ciphers = PREFERRED_CIPHERS + tuple(
        c for c in paramiko.Transport._preferred_ciphers if c not in PREFERRED_CIPHERS)


class ChannelSocket:
    """A ``direct-tcpip`` channel used as the socket of an SSH Transport (client or
    server); ``close()`` ignores a carrying connection already gone, which paramiko would
    otherwise report as an uncaught ``EOFError`` from the transport thread."""

    def __init__(self, channel: paramiko.Channel):
        self.channel = channel

    def __getattr__(self, name: str):
        return getattr(self.channel, name)

    def close(self) -> None:
        with contextlib.suppress(EOFError, OSError):
            self.channel.close()


def _close_client(client: paramiko.SSHClient) -> None:
    """Close now: shutting the TCP socket down also wakes the transport thread's read."""
    transport = client.get_transport()
    if transport is not None and isinstance(transport.sock, socket.socket):
        with contextlib.suppress(OSError):
            transport.sock.shutdown(socket.SHUT_RDWR)
    client.close()


@dataclass
class _Connection:
    route: SshRoute
    client: paramiko.SSHClient
    slots: threading.BoundedSemaphore
    opened: int = 0  # commands started on it, and those still running (under the pool's lock)
    running: int = 0
    retired: bool = False  # closed once its last command ends

    @property
    def alive(self) -> bool:
        """Still usable: a jumped one dies with its channel, before its transport notices."""
        transport = self.client.get_transport()
        return transport is not None and transport.is_active() and not getattr(transport.sock, "closed", False)

    def close(self) -> None:
        _close_client(self.client)


class SshPool:
    """Kept-open SSH connections to an environment's hosts, one per host, thread-safe."""

    def __init__(
        self,
        config: Mapping,
        *,
        jump: bool | None = None,
        channels_per_host: int = 8,
        channels_per_connection: int = CHANNELS_PER_CONNECTION,
        hosts_at_once: int | None = None,
        connect_timeout: float = 10.0,
        connect_attempts: int = 3,
        retry_backoff: float = 0.2,
        on_new_host_key: NewHostKeyCallback | None = None,
    ):
        """``config`` is the environment's CLI section (see ``SshSettings.from_config``);
        at most ``channels_per_host`` commands run at once on one host, and at most
        ``hosts_at_once`` commands (with their connecting) on all hosts together, whatever
        the threads that ask; the others wait. A connection that has run
        ``channels_per_connection`` commands is replaced by a new one."""
        self.settings = SshSettings.from_config(config, jump)
        self._running = (threading.BoundedSemaphore(hosts_at_once) if hosts_at_once
                         else contextlib.nullcontext())
        self.known_hosts = KnownHosts(self.settings.known_hosts, on_new_host_key)
        self.channels_per_host, self.connect_timeout = channels_per_host, connect_timeout
        self.channels_per_connection = channels_per_connection
        self.connect_attempts, self.retry_backoff = max(1, connect_attempts), retry_backoff
        try:
            self._pkey = paramiko.PKey.from_path(self.settings.key_file) if self.settings.key_file else None
        except (OSError, paramiko.SSHException) as exc:
            raise ConfigError(f"cannot use SSH key file {self.settings.key_file}: {exc}") from None
        self._connections: dict[str, _Connection] = {}
        self._connecting: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._closed = False

    def run(self, host: str, command: str, timeout: float = 60.0) -> CommandResult:
        """Run ``command`` on ``host`` and return all it printed once it has exited
        (``timeout``: from when it may start, once fewer than ``hosts_at_once`` run)."""
        with self._running:  # each holder lets go within its own timeout
            return self._run(host, command, timeout, time.monotonic())

    def _run(self, host: str, command: str, timeout: float, started: float) -> CommandResult:
        deadline = started + timeout
        for attempt in (1, 2):  # a kept connection found dead is replaced once
            connection = self._take(host)
            try:
                if not connection.slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    raise CommandTimeout(host, command, timeout)
                try:
                    channel = self._open_channel(connection, deadline, may_retry=attempt == 1)
                    if channel is None:
                        continue
                    status, out, err = self._exec(channel, command, deadline)
                except TimeoutError:
                    raise CommandTimeout(host, command, timeout) from None
                except (paramiko.SSHException, EOFError, OSError) as exc:
                    raise HostUnreachable(host, f"connection lost while running {command!r}: {exc}") from exc
                finally:
                    connection.slots.release()
            finally:
                self._let_go(connection)
            return CommandResult(host, command, status, out.decode(errors="replace"), err.decode(errors="replace"),
                                 time.monotonic() - started)
        raise HostUnreachable(host, "connection lost twice")

    def close(self) -> None:
        """Close every connection: hosts reached through the jump host first, then the rest."""
        with self._lock:
            self._closed = True
            connections = sorted(self._connections.values(), key=lambda c: not c.route.via_jump)
            self._connections.clear()
        for connection in connections:
            connection.close()

    def __enter__(self) -> SshPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- connections --------------------------------------------------------------------

    def _connection(self, host: str) -> _Connection:
        """The open connection to ``host``, made (once, whatever the threads) when missing or dead."""
        route = self.settings.route(host)
        with self._lock:
            if self._closed:
                raise SshError(host, f"SSH to {host}: the connection pool is closed")
            connection = self._connections.get(route.host)
            if connection and connection.alive:
                return connection
            connecting = self._connecting.setdefault(route.host, threading.Lock())
        with connecting:
            connection = self._connections.get(route.host)
            if connection and connection.alive:
                return connection
            if connection:
                connection.close()
            connection = self._connect(route)
            with self._lock:
                if self._closed:
                    connection.close()
                    raise SshError(host, f"SSH to {host}: the connection pool is closed")
                self._connections[route.host] = connection
            return connection

    def _take(self, host: str) -> _Connection:
        """The connection to run one more command on. One that has run its share is
        retired: the command gets a new one, and the old one is closed when its last
        command ends. Not the jump host's while hosts are reached through it."""
        while True:
            connection = self._connection(host)
            route = connection.route
            with self._lock:
                if connection.opened < self.channels_per_connection or (
                        route.host == self.settings.jump_address
                        and any(c.route.via_jump for c in self._connections.values())):
                    connection.opened += 1
                    connection.running += 1
                    return connection
                if self._connections.get(route.host) is not connection:
                    continue  # another command retired it
                del self._connections[route.host]
                connection.retired = True
                idle = connection.running == 0
            log.debug("SSH: %s ran %d commands on one connection, opening a new one", host, connection.opened)
            if idle:
                connection.close()

    def _let_go(self, connection: _Connection) -> None:
        with self._lock:
            connection.running -= 1
            idle = connection.retired and connection.running == 0
        if idle:
            connection.close()

    def _connect(self, route: SshRoute) -> _Connection:
        """Connect with bounded retries and exponential back-off; key and login failures
        are not retried."""
        for attempt in range(self.connect_attempts):
            if attempt:
                time.sleep(self.retry_backoff * 2 ** (attempt - 1))
            try:
                return self._handshake(route, self._open_socket(route))
            except HostUnreachable as exc:
                failure = exc
                log.debug("SSH: attempt %d to reach %s failed: %s", attempt + 1, route.host, exc.reason)
        raise failure

    def _open_socket(self, route: SshRoute):
        target = f"{route.address}:{route.port}"
        if route.via_jump:
            try:
                jump = self._connection(self.settings.jump_address)
            except HostUnreachable as exc:
                raise HostUnreachable(route.host, f"jump host: {exc.reason}") from exc
            try:
                return ChannelSocket(jump.client.get_transport().open_channel(
                    "direct-tcpip", (route.address, route.port), ("127.0.0.1", 0),
                    max_packet_size=MAX_PACKET_SIZE, timeout=self.connect_timeout))
            except paramiko.ChannelException as exc:
                raise HostUnreachable(route.host, f"jump host cannot reach {target}: {exc.text}") from exc
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise HostUnreachable(route.host, f"jump host lost while opening {target}: {exc}") from exc
        try:
            sock = socket.create_connection((route.address, route.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise HostUnreachable(route.host, f"cannot connect to {target}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _handshake(self, route: SshRoute, sock) -> _Connection:
        """Key exchange, host key check and login on an open socket (or jump channel)."""
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(self.known_hosts)
        name = route.address if route.port == 22 else f"[{route.address}]:{route.port}"
        for key_type, key in self.known_hosts.expected(name).items():
            client.get_host_keys().add(name, key_type, key)
        try:
            client.connect(
                route.address, route.port, username=route.user, password=self.settings.password, pkey=self._pkey,
                sock=sock, timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout, look_for_keys=False, allow_agent=False,
                transport_factory=_PoolTransport,
            )
        except paramiko.BadHostKeyException as exc:
            _close_client(client)
            raise HostKeyMismatch(route.host, exc.expected_key.fingerprint, exc.key.fingerprint) from None
        except paramiko.AuthenticationException as exc:
            _close_client(client)
            if "timeout" in str(exc).lower():  # paramiko reports a slow server as an auth failure
                raise HostUnreachable(route.host, f"no answer to login within {self.connect_timeout:g} s") from None
            raise SshAuthenticationFailed(route.host, route.user, "key" if self._pkey else "password") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            _close_client(client)
            sock.close()
            raise HostUnreachable(route.host, f"SSH handshake with {route.address}:{route.port} failed: {exc}") from exc
        return _Connection(route, client, threading.BoundedSemaphore(self.channels_per_host))

    # -- commands -----------------------------------------------------------------------

    @staticmethod
    def _open_channel(connection: _Connection, deadline: float, may_retry: bool) -> paramiko.Channel | None:
        """A new channel, or None when the kept connection has died and may be replaced."""
        try:
            timeout = max(0.1, deadline - time.monotonic())
            return connection.client.get_transport().open_session(max_packet_size=MAX_PACKET_SIZE, timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError, AttributeError) as exc:
            if may_retry and not connection.alive:
                return None
            raise HostUnreachable(connection.route.host, f"cannot open a channel: {exc}") from exc

    @staticmethod
    def _exec(channel: paramiko.Channel, command: str, deadline: float) -> tuple[int, bytes, bytes]:
        """Run the command and read stdout and stderr as they come (reading one only would
        stall the server once the shared window is full), sleeping until either has data
        or the output ends; TimeoutError at deadline."""
        with channel:  # closed at the end, whatever happens
            arrived = _Arrivals(channel)
            channel.exec_command(command)
            out, err = bytearray(), bytearray()
            while True:
                arrived.reset()
                while channel.recv_ready():
                    out += channel.recv(MAX_PACKET_SIZE)
                while channel.recv_stderr_ready():
                    err += channel.recv_stderr(MAX_PACKET_SIZE)
                if (channel.eof_received or channel.closed) and not (
                        channel.recv_ready() or channel.recv_stderr_ready()):
                    break  # EOF (the server sent everything) or the connection is gone
                if not arrived.wait(deadline - time.monotonic()):
                    raise TimeoutError
            if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError
            if channel.exit_status == -1 and not channel.get_transport().is_active():
                raise EOFError("the connection closed before the command's exit status came")
            return channel.exit_status, bytes(out), bytes(err)


class _Arrivals:
    """Set when a channel's stdout or stderr gets data or ends: the event both of its
    buffers signal (paramiko's own ``fileno()`` would make an OS pipe for each channel).
    Only the reader resets it, before it looks at the buffers, so no arrival is missed."""

    def __init__(self, channel: paramiko.Channel):
        self._event = threading.Event()
        channel.in_buffer.set_event(self)
        channel.in_stderr_buffer.set_event(self)

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        """What a buffer calls once read empty: nothing, the other one may have data."""

    def reset(self) -> None:
        self._event.clear()

    def wait(self, timeout: float) -> bool:
        return timeout > 0 and self._event.wait(timeout)
