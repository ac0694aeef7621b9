"""Serving the lab's OpenStack APIs over HTTP on loopback.

``LabApiServer(model)`` puts Keystone (``/v3``), and per region Nova
(``/<region>/compute/v2.1``), Neutron (``/<region>/network``) and Placement
(``/<region>/placement``) behind one uvicorn server on 127.0.0.1 and a free port, run
in a background thread::

    with LabApiServer(model) as api:
        conn = openstack.connect(**api.connect_kwargs())
        conn.compute.servers(details=True, all_projects=True)

The password is drawn at random unless given; ``connect_kwargs()`` hands it over.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from datetime import datetime

import uvicorn
from starlette.applications import Starlette

from calipso_core.errors import CalipsoError
from calipso_core.lab.ids import utc_now
from calipso_core.lab.model import LabModel
from calipso_plugins_openstack.lab.api import keystone, neutron, nova, placement
from calipso_plugins_openstack.lab.api.common import ApiContext, RenderCache, TokenStore
from calipso_plugins_openstack.lab.api.realism import Fault, LoggedRequest, Realism, RealismMiddleware

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class LabApiError(CalipsoError):
    """Raised when the lab's API server cannot start or stop (names the address)."""


def build_app(ctx: ApiContext, realism: Realism) -> Starlette:
    app = Starlette(routes=[*keystone.ROUTES, *nova.ROUTES, *neutron.ROUTES, *placement.ROUTES])
    app.router.redirect_slashes = False
    app.state.ctx = ctx
    app.add_middleware(RealismMiddleware, realism=realism)
    return app


class LabApiServer:
    """The lab's Keystone, Nova, Neutron and Placement, served from ``model``.

    ``latency_ms=(a, b)`` delays each request uniformly in [a, b] ms; ``add_fault`` makes
    a path fail or hang. ``nova_max_version`` is the highest microversion advertised,
    ``nova_max_limit`` Nova's page size, ``neutron_max_limit`` Neutron's
    ``pagination_max_limit`` (-1: no paging unless the client asks).
    """

    def __init__(self, model: LabModel, *, username: str = "admin", password: str | None = None,
                 latency_ms: tuple[float, float] = (0.0, 0.0), nova_max_version: str = "2.96",
                 nova_max_limit: int = 1000, neutron_max_limit: int = -1, token_lifetime_s: float = 12 * 3600,
                 clock=utc_now, seed: int = 0):
        self.model = model
        self.tokens = TokenStore()
        self.realism = Realism(latency_ms, seed)
        self._ctx = ApiContext(model=model, tokens=self.tokens, cache=RenderCache(), clock=clock, username=username,
                               password=password or secrets.token_urlsafe(18), token_lifetime_s=token_lifetime_s,
                               nova_max_version=nova_max_version, nova_max_limit=nova_max_limit,
                               neutron_max_limit=neutron_max_limit)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # --- addresses and credentials ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/v3"

    def connect_kwargs(self, project_name: str = "admin") -> dict[str, str]:
        """Keyword arguments for ``openstack.connect`` as the lab's admin."""
        return {"auth_url": self.auth_url, "username": self._ctx.username, "password": self._ctx.password,
                "project_name": project_name, "user_domain_name": "Default", "project_domain_name": "Default"}

    # --- realism knobs --------------------------------------------------------------------------

    @property
    def latency_ms(self) -> tuple[float, float]:
        return self.realism.latency_ms

    @latency_ms.setter
    def latency_ms(self, bounds: tuple[float, float]) -> None:
        self.realism.latency_ms = bounds

    def add_fault(self, path_glob: str, kind: str = "error", status: int = 500, method: str | None = None,
                  times: int | None = None, hang_s: float = 120.0) -> Fault:
        return self.realism.add_fault(path_glob, kind, status, method, times, hang_s)

    def clear_faults(self) -> None:
        self.realism.clear_faults()

    @property
    def requests(self) -> list[LoggedRequest]:
        """The latest requests received (at most ``REQUEST_LOG_SIZE``), oldest first."""
        return list(self.realism.requests)

    def revoke_tokens(self) -> None:
        """Forget every token, as a restarted Keystone with new keys would."""
        self.tokens.revoke_all()

    def now(self) -> datetime:
        return self._ctx.clock()

    # --- life cycle ---------------------------------------------------------------------------------

    def start(self) -> LabApiServer:
        if self._thread is not None:
            return self
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.realism.stopping = False
        config = uvicorn.Config(build_app(self._ctx, self.realism), log_level="warning", access_log=False,
                                lifespan="off", ws="none", timeout_graceful_shutdown=2, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"lab-openstack-api-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise LabApiError(f"the lab's OpenStack API did not start on 127.0.0.1:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self.realism.stopping = True
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        alive = self._thread.is_alive()
        self._socket.close()
        self._thread = self._server = self._socket = None
        if alive:
            raise LabApiError(f"the lab's OpenStack API on 127.0.0.1:{self.port} did not stop within "
                              f"{STOP_TIMEOUT_S} s")

    def __enter__(self) -> LabApiServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
