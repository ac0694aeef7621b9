"""A private RabbitMQ node for the lab and the tests.

``RabbitBroker`` runs the distribution's ``rabbitmq-server`` on loopback only, with its own
data, log, cookie and Erlang port mapper (epmd), so several brokers (of several test runs)
live side by side without touching the machine's own RabbitMQ or each other. The node's
name and its data directory are kept across ``restart()``, so durable queues and their
persistent messages survive it, as they would on a real broker.

Ports are chosen below 32768: a port inside Linux's ephemeral range (32768-60999) can be
taken by an outgoing connection in the moment between choosing it and binding it.
"""

from __future__ import annotations

import atexit
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

from calipso_core.errors import CalipsoError

SERVER_SCRIPT = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL_SCRIPT = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
BROKER_USER = "rabbitmq"
LOOPBACK = "127.0.0.1"
PORT_RANGE = (20000, 32767)


class BrokerError(CalipsoError):
    """Raised by ``RabbitBroker`` when the node cannot be started, stopped or asked
    something; the message names the node and its AMQP port and quotes its log tail."""


def port_free(port: int) -> bool:
    """True when a server could listen on 127.0.0.1:``port`` now (connections of a
    stopped server that linger in TIME_WAIT do not count, as for RabbitMQ itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(exclude: set[int] = frozenset(), attempts: int = 200) -> int:
    """A TCP port below the ephemeral range that nothing on 127.0.0.1 listens on now."""
    for _ in range(attempts):
        port = random.randint(*PORT_RANGE)
        if port not in exclude and port_free(port):
            return port
    raise BrokerError(f"no free port on {LOOPBACK} in {PORT_RANGE[0]}-{PORT_RANGE[1]} after {attempts} tries")


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connect to 127.0.0.1:``port`` succeeds."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class RabbitBroker:
    """One private RabbitMQ node whose files all live under ``data_dir``.

    Use it as a context manager, or call ``start()`` and ``stop()``. ``url`` is the
    oslo.messaging transport URL, ``amqp_section()`` the environment's AMQP section.
    """

    def __init__(self, data_dir: str | os.PathLike, port: int | None = None, *,
                 start_timeout: float = 120.0, stop_timeout: float = 30.0):
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.dist_port = free_port({self.port})
        self.epmd_port = free_port({self.port, self.dist_port})
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.started_in: float | None = None  # seconds the last start() took
        self._server: subprocess.Popen | None = None
        self._epmd: subprocess.Popen | None = None
        self.node = self._node_name()

    # -- what clients need -------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"rabbit://guest:guest@{LOOPBACK}:{self.port}/"

    def amqp_section(self) -> dict:
        """The environment configuration section that points Calipso at this broker."""
        return {"name": "AMQP", "host": LOOPBACK, "port": self.port, "user": "guest", "pwd": "guest"}

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.poll() is None

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> RabbitBroker:
        """Start the node and return once its AMQP port accepts connections."""
        if self.running:
            return self
        began = time.monotonic()
        for port in (self.port, self.dist_port, self.epmd_port):
            if not port_free(port):
                raise BrokerError(f"cannot start node {self.node}: {LOOPBACK}:{port} is already in use")
        self._prepare_dirs()
        self._epmd = self._spawn(["epmd", "-port", str(self.epmd_port), "-address", LOOPBACK], "epmd.out")
        self._wait_for_port(self.epmd_port, self._epmd, "epmd")
        self._server = self._spawn([str(SERVER_SCRIPT)], "server.out")
        self._wait_for_port(self.port, self._server, "rabbitmq-server")
        self.started_in = time.monotonic() - began
        atexit.register(self.stop)  # a program that forgets stop() leaves no broker behind
        return self

    def stop(self) -> None:
        """Stop the node gracefully (it flushes durable queues to disk), then its epmd.

        A node that has not exited within ``stop_timeout`` seconds is killed with its
        whole process group.
        """
        if self._server is not None:
            self._terminate(self._server, graceful=True)
            self._server = None
        if self._epmd is not None:
            self._terminate(self._epmd, graceful=False)
            self._epmd = None
        atexit.unregister(self.stop)

    def restart(self) -> RabbitBroker:
        """Stop and start the same node on the same ports and data."""
        self.stop()
        return self.start()

    def __enter__(self) -> RabbitBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- asking the node ---------------------------------------------------------------

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl`` against this node and return its standard output."""
        try:
            done = subprocess.run([str(CTL_SCRIPT), "-q", *args], env=self._env(), capture_output=True, text=True,
                                  timeout=timeout, **self._user_switch())
        except subprocess.TimeoutExpired as exc:
            raise BrokerError(f"rabbitmqctl {args[0]} on {self.node}: no answer within {timeout:.0f} s") from exc
        if done.returncode != 0:
            raise BrokerError(f"rabbitmqctl {args[0]} on {self.node} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    def queues(self) -> dict[str, dict]:
        """Every queue of the default virtual host by name: durability, type, arguments
        and the counts ``messages_ready``, ``messages_unacknowledged`` and ``consumers``."""
        out = self.ctl("list_queues", "name", "durable", "type", "arguments", "messages_ready",
                       "messages_unacknowledged", "consumers", "--formatter", "json")
        return {q["name"]: q for q in json.loads(out or "[]")}

    def pools_drained(self, environment: str) -> bool:
        """Whether Calipso's pool queues of ``environment`` (both topics, by their exact
        names: not those of another environment whose name begins alike) exist and hold
        no message, ready or unacknowledged."""
        from calipso_core.messaging import TOPIC, VERSIONED_TOPIC, pool_name

        queues = self.queues()
        pools = [queues[name] for name in (pool_name(environment, TOPIC), pool_name(environment, VERSIONED_TOPIC))
                 if name in queues]
        return bool(pools) and all(q["messages_ready"] == 0 and q["messages_unacknowledged"] == 0 for q in pools)

    # -- the parts ---------------------------------------------------------------------

    def _node_name(self) -> str:
        """The node's name: kept in the data directory, because the node's database lives
        in a folder named after it (a new name would mean an empty broker)."""
        saved = self.data_dir / "nodename"
        if saved.is_file():
            return saved.read_text().strip()
        return f"calipso-{os.getpid()}-{secrets.token_hex(3)}@localhost"

    def _prepare_dirs(self) -> None:
        for sub in ("mnesia", "log"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.data_dir / "nodename").write_text(self.node + "\n")
        (self.data_dir / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            self._check_reachable()
            account = pwd.getpwnam(BROKER_USER)
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
        elif pwd.getpwuid(os.geteuid()).pw_name != BROKER_USER:
            raise BrokerError(f"{SERVER_SCRIPT} runs only as root or as the {BROKER_USER} user")
        if not SERVER_SCRIPT.exists() or shutil.which("epmd") is None:
            raise BrokerError(f"{SERVER_SCRIPT} or epmd is missing: install the rabbitmq-server package")

    def _check_reachable(self) -> None:
        """The broker runs as ``rabbitmq``: every folder above the data directory must let
        other users through (pytest's own tmp_path, for one, does not)."""
        for parent in self.data_dir.parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                raise BrokerError(f"the {BROKER_USER} user cannot reach {self.data_dir}: {parent} is closed to "
                                  f"other users; put the broker's data under a world-traversable folder such as /tmp")

    def _env(self) -> dict[str, str]:
        d = self.data_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(d),  # the node's own Erlang cookie
            RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_IP_ADDRESS=LOOPBACK,
            RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(d / "mnesia"), RABBITMQ_LOG_BASE=str(d / "log"),
            RABBITMQ_PID_FILE=str(d / "pid"), RABBITMQ_FEATURE_FLAGS_FILE=str(d / "feature_flags"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(d / "rabbitmq"), RABBITMQ_ADVANCED_CONFIG_FILE=str(d / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(d / "rabbitmq-env.conf"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            ERL_EPMD_PORT=str(self.epmd_port), ERL_EPMD_ADDRESS=LOOPBACK,
        )
        return env

    def _user_switch(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": BROKER_USER, "group": BROKER_USER, "extra_groups": []}

    def _spawn(self, argv: list[str], out_name: str) -> subprocess.Popen:
        out = open(self.data_dir / "log" / out_name, "ab")  # noqa: SIM115 - the child keeps it
        try:
            return subprocess.Popen(argv, env=self._env(), cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                    **self._user_switch())
        finally:
            out.close()

    def _wait_for_port(self, port: int, proc: subprocess.Popen, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if port_accepts(port):
                return
            if proc.poll() is not None:
                self.stop()
                raise BrokerError(f"{what} of node {self.node} exited with code {proc.returncode} before "
                                  f"{LOOPBACK}:{port} opened; log tail:\n{self._log_tail()}")
            time.sleep(0.1)
        self.stop()
        raise BrokerError(f"{what} of node {self.node} did not open {LOOPBACK}:{port} within "
                          f"{self.start_timeout:.0f} s; log tail:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        logs = self.data_dir / "log"
        node_log = logs / f"{self.node}.log"
        return "\n".join(t for t in (_tail(logs / "server.out"), _tail(node_log)) if t) or "(no log written)"

    def _terminate(self, proc: subprocess.Popen, graceful: bool) -> None:
        """SIGTERM the group leader (the server script forwards it to the Erlang VM,
        which then shuts down cleanly), wait for the whole group, SIGKILL it at the deadline."""
        group = proc.pid
        _signal_group(group, signal.SIGTERM, leader_only=graceful)
        deadline = time.monotonic() + (self.stop_timeout if graceful else 5.0)
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_alive(group):
                break
            time.sleep(0.1)
        else:
            _signal_group(group, signal.SIGKILL)
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired as exc:
            raise BrokerError(f"node {self.node}: process {proc.pid} survived SIGKILL") from exc


def _signal_group(group: int, sig: int, leader_only: bool = False) -> None:
    try:
        if leader_only:
            os.kill(group, sig)
        else:
            os.killpg(group, sig)
    except ProcessLookupError:
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
