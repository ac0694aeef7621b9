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
from datetime import datetime

from starlette.applications import Starlette

from calipso_core.errors import CalipsoError
from calipso_core.lab.http import ThreadedServer
from calipso_core.lab.ids import utc_now
from calipso_core.lab.model import LabModel
from calipso_plugins_openstack.lab.api import keystone, neutron, nova, placement
from calipso_plugins_openstack.lab.api.common import ApiContext, RenderCache, TokenStore
from calipso_plugins_openstack.lab.api.realism import Fault, LoggedRequest, Realism, RealismMiddleware


class LabApiError(CalipsoError):
    """Raised when the lab's API server cannot start or stop (names the address)."""


def build_app(ctx: ApiContext, realism: Realism) -> Starlette:
    app = Starlette(routes=[*keystone.ROUTES, *nova.ROUTES, *neutron.ROUTES, *placement.ROUTES])
    app.router.redirect_slashes = False
    app.state.ctx = ctx
    app.add_middleware(RealismMiddleware, realism=realism)
    return app


class LabApiServer(ThreadedServer):
    """The lab's Keystone, Nova, Neutron and Placement, served from ``model``.

    ``latency_ms=(a, b)`` delays each request uniformly in [a, b] ms; ``add_fault`` makes
    a path fail or hang. ``nova_max_version`` is the highest microversion advertised,
    ``nova_max_limit`` Nova's page size, ``neutron_max_limit`` Neutron's
    ``pagination_max_limit`` (-1: no paging unless the client asks).
    """

    error = LabApiError

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
        super().__init__(build_app(self._ctx, self.realism), "lab-openstack-api", start_timeout=10.0)

    # --- addresses and credentials ------------------------------------------------------------

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
        self.realism.stopping = False
        super().start()
        return self

    def stop(self) -> None:
        self.realism.stopping = True  # a hanging request gives up
        super().stop()
