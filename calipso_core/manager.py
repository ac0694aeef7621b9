"""``calipso manager``: one listener process per environment that listens.

Every ``interval`` seconds the manager looks at the environments: each one with
``listen: true``, ``scanned: true`` and an ``AMQP`` section gets a ``calipso listen ENV``
process (``python -m calipso_core.cli.listen_cmd ENV``). One that dies is started again
after a back-off that doubles with each death in a row (reset once it has run for
``stable`` seconds); one that stopped after ``listener_max_notifications`` (exit status
``EXIT_START_AGAIN``: a new process has none of the memory a long run leaves behind) is
started again at once. An environment that no longer qualifies has its listener stopped
(SIGTERM, then SIGKILL after ``stop_timeout``). The state of each listener is written on
its environment as ``operational``: ``running``, ``stopped`` or ``error`` (it died; it is
started again after the back-off).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from calipso_core.environments import config_section
from calipso_core.errors import NotFound
from calipso_core.listener import EXIT_START_AGAIN
from calipso_core.types import Document

log = logging.getLogger(__name__)


@dataclass
class ManagerOptions:
    interval: float = 5.0
    first_backoff: float = 1.0
    longest_backoff: float = 60.0
    stable: float = 60.0
    stop_timeout: float = 10.0
    reconcile_every: float = 0.0
    listener_max_notifications: int = 500_000  # 0: no limit
    log_dir: Path | None = None
    python: str = sys.executable
    child_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    """The listener of one environment."""

    env: str
    process: subprocess.Popen | None = None
    started: float = 0.0
    deaths: int = 0
    next_start: float = 0.0
    state: str = ""
    exit_codes: list[int] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def eligible(env: Document) -> bool:
    return bool(env.get("listen")) and bool(env.get("scanned")) and config_section(env, "AMQP") is not None


class ListenerManager:
    """Supervises the listeners; ``step()`` is one round, ``run(stop)`` rounds until stopped."""

    def __init__(self, app, options: ManagerOptions | None = None):
        self.app, self.options = app, options or ManagerOptions()
        self.children: dict[str, Child] = {}

    def run(self, stop: threading.Event) -> None:
        try:
            while True:
                self.step()
                if stop.wait(self.options.interval):
                    break
        finally:
            self.stop_all()

    def step(self) -> None:
        now = time.monotonic()
        wanted = {env["name"] for env in self.app.environments.list() if eligible(env)}
        for name in sorted(wanted):
            self._supervise(self.children.setdefault(name, Child(name)), now)
        for name in sorted(set(self.children) - wanted):
            self._retire(self.children.pop(name))

    def stop_all(self) -> None:
        for name in sorted(self.children):
            self._retire(self.children.pop(name))

    # -- one environment ------------------------------------------------------------------

    def _supervise(self, child: Child, now: float) -> None:
        if child.alive:
            if now - child.started >= self.options.stable:
                child.deaths = 0
            self._set_state(child, "running")
            return
        if child.process is not None and child.process.returncode == EXIT_START_AGAIN:
            child.exit_codes.append(child.process.returncode)
            child.process, child.next_start = None, now
            log.info("listener of %s stopped after its --max-notifications; starting it again", child.env)
        elif child.process is not None:  # it died
            code = child.process.returncode
            child.exit_codes.append(code)
            child.process, child.deaths = None, child.deaths + 1
            delay = min(self.options.first_backoff * 2 ** (child.deaths - 1), self.options.longest_backoff)
            child.next_start = now + delay
            log.warning("listener of %s exited with %s; starting it again in %.0f s", child.env, code, delay)
            self._set_state(child, "error")
        if now >= child.next_start:
            child.process, child.started = self._spawn(child.env), now
            self._set_state(child, "running")

    def _spawn(self, env: str) -> subprocess.Popen:
        # -P: the manager's working directory is not searched for modules (nor for the
        # metadata of whatever distributions lie there).
        argv = [self.options.python, "-P", "-m", "calipso_core.cli.listen_cmd", env]
        if self.options.reconcile_every > 0:
            argv += ["--reconcile-every", str(self.options.reconcile_every)]
        if self.options.listener_max_notifications > 0:
            argv += ["--max-notifications", str(self.options.listener_max_notifications)]
        output = subprocess.DEVNULL
        if self.options.log_dir is not None:
            self.options.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.options.log_dir / f"listen-{env}.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                       env={**os.environ, **self.options.child_env}, start_new_session=True)
        finally:
            if output is not subprocess.DEVNULL:
                output.close()
        log.info("started the listener of %s (process %d)", env, process.pid)
        return process

    def _retire(self, child: Child) -> None:
        if child.alive:
            child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(self.options.stop_timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(5)
            log.info("stopped the listener of %s", child.env)
        child.process = None
        self._set_state(child, "stopped")

    def _set_state(self, child: Child, state: str) -> None:
        if child.state == state:
            return
        child.state = state
        with contextlib.suppress(NotFound):  # the environment was deleted
            self.app.environments.update(child.env, operational=state)
