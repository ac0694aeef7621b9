"""A running lab: the model, the SSH hosts, the broker, the plugins' services, and a small
control API (ground truth, churn) for the ``calipso lab`` commands.

``Lab(options, plugins, workdir).start()`` brings everything up; ``environment()`` is
the environment document that points Calipso at it.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calipso_core.lab.churn import random_change
from calipso_core.lab.control import control_app
from calipso_core.lab.generate import generate_lab
from calipso_core.lab.http import ThreadedServer
from calipso_core.lab.linux_host import host_shell
from calipso_core.lab.model import LabModel, LabSpec
from calipso_core.lab.records import Change
from calipso_core.lab.shell import Shell
from calipso_core.lab.ssh import LabSshServer
from calipso_core.lab.truth import Truth

log = logging.getLogger(__name__)

HostCommands = Callable[[LabModel, str], dict]


@dataclass(frozen=True)
class LabOptions:
    seed: int = 1
    hosts: int = 12
    instances: int | None = None
    mechanism_driver: str = "OVS"
    type_driver: str = "vxlan"
    aci: bool = False
    latency_ms: tuple[float, float] = (5, 20)
    amqp_url: str | None = None
    #: Whether the lab announces its changes on a broker (a private one unless ``amqp_url``).
    notifications: bool = True
    name: str | None = None

    @property
    def env_name(self) -> str:
        return self.name or f"lab-{self.seed}"

    def spec(self) -> LabSpec:
        return LabSpec(seed=self.seed, hosts=self.hosts, instances=self.instances,
                       mechanism_driver=self.mechanism_driver, type_driver=self.type_driver, aci=self.aci)


class _Removed:
    """Removes a folder when the lab stops."""

    def __init__(self, path: Path):
        self.path = path

    def stop(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Lab:
    """A simulated data centre served on loopback."""

    def __init__(self, options: LabOptions, plugins, workdir: Path, model: LabModel | None = None):
        self.options = options
        self.plugins = plugins
        self.workdir = Path(workdir)
        self.model = model or generate_lab(options.spec())
        self.secret = secrets.token_urlsafe(16)
        self.sections: list[dict] = []
        self.host_commands: list[HostCommands] = []
        self.change_listeners: list[Callable[[Change], None]] = []
        self.amqp_url = options.amqp_url
        #: What each plugin service's start returned, by service name (e.g. an API server).
        self.services: dict[str, Any] = {}
        self._handles: list[Any] = []
        self._shells: dict[str, Any] = {}
        self._shells_lock = threading.Lock()
        self._random = random.Random(options.seed)
        self.ssh: LabSshServer | None = None

    # -- what plugins' services call while starting ------------------------------------

    def add_section(self, section: dict) -> None:
        """Add a configuration section (``{"name": ..., ...}``) to the lab's environment."""
        self.sections.append(section)

    def add_host_commands(self, commands: HostCommands) -> None:
        """Add commands every lab host answers: ``commands(model, host)`` gives patterns
        and handlers for ``calipso_core.lab.shell.Shell``."""
        self.host_commands.append(commands)

    def add_change_listener(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` with every change made to the lab's cloud (to announce it)."""
        self.change_listeners.append(listener)

    def change(self, rng: random.Random, only: Collection[str] | None = None) -> Change:
        """Make one random change to the cloud (of the collections ``only`` names) and
        tell the listeners."""
        return self.announce(random_change(self.model, rng, only))

    def announce(self, change: Change) -> Change:
        """Tell the listeners of a change made to the cloud (by ``change`` or directly
        through the model)."""
        for listener in self.change_listeners:
            listener(change)
        return change

    def broker_url(self) -> str:
        """The AMQP URL of the lab's broker, starting a private one on first use (its data
        in a folder of its own under the temp dir: the broker runs as another user)."""
        if self.amqp_url is None:
            from calipso_core.broker import RabbitBroker

            data = Path(tempfile.mkdtemp(prefix="calipso-lab-broker-"))
            data.chmod(0o755)
            self._handles.append(_Removed(data))
            broker = RabbitBroker(data / "rabbitmq")
            broker.start()
            self._handles.append(broker)
            self.amqp_url = broker.url
        return self.amqp_url

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Lab:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            for service in self.plugins.records("calipso_lab_services").values():
                log.info("starting lab service %s", service.name)
                handle = self.services[service.name] = service.start(self)
                if handle is not None:
                    self._handles.append(handle)
            # Real hosts have their state at hand: each lab host builds its switching view
            # and long outputs now, not while a scan waits on this one process for them.
            for host in self.model.hosts:
                self._shell(host).prepare()
            # The latency is per command a host runs (several may come in one SSH exec).
            self.ssh = LabSshServer({name: self._answer(name) for name in self.model.hosts}, user="calipso",
                                    password=self.secret, key_dir=self.workdir / "hostkeys")
            self.ssh.start()
            self._handles.append(self.ssh)
            self.control = ThreadedServer(control_app(self), "lab-control").start()
            self._handles.append(self.control)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self._handles:
            handle = self._handles.pop()
            try:
                handle.stop()
            except Exception:  # noqa: BLE001 - stop everything else all the same
                log.exception("stopping %r failed", handle)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _shell(self, host: str) -> Shell:
        with self._shells_lock:
            shell = self._shells.get(host)
            if shell is None:
                extra = [commands(self.model, host) for commands in self.host_commands]
                shell = self._shells[host] = host_shell(self.model, host, extra)
                low, high = self.options.latency_ms
                if high > 0:
                    shell.command_delay = lambda: self._random.uniform(low, high) / 1000
            return shell

    def _answer(self, host: str):
        return lambda command_line: self._shell(host)(command_line)

    # -- what Calipso sees ---------------------------------------------------------------

    def environment(self) -> dict:
        """The environment document (for ``calipso env add``) that points at this lab."""
        cli = {"name": "CLI", **self.ssh.client_config(),
               "known_hosts": str(self.workdir / "known_hosts")}
        control = {"name": "Lab", "url": self.control.base_url, "token": self.secret}
        sections = [cli, *self.sections, control]
        return {
            "name": self.options.env_name,
            "distribution": "Calipso-lab",
            "distribution_version": "1",
            "mechanism_drivers": [self.options.mechanism_driver],
            "type_drivers": self.options.type_driver,
            "aci_enabled": self.options.aci,
            "listen": any(s["name"] == "AMQP" for s in sections),
            "configuration": sections,
        }

    def truth(self) -> Truth:
        truth = Truth()
        for service in self.plugins.records("calipso_lab_services").values():
            if service.truth is not None:
                truth.merge(service.truth(self.model, self.options.env_name))
        return truth
