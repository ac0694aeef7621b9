"""The lab's control API on loopback, for ``calipso lab truth|verify|churn``: the ground
truth of the lab as it is now, and random changes to its cloud. Every request needs the
lab's token (``X-Lab-Token``), which only the environment document holds."""

from __future__ import annotations

import hmac
import random
import time

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calipso_core.errors import CalipsoError
from calipso_core.lab.ids import LabError

MAX_CHANGES = 100_000


def control_app(lab) -> Starlette:
    def authorized(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("x-lab-token", ""), lab.secret)

    async def truth(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "a valid X-Lab-Token is required"}, 401)
        types = list(lab.plugins.records("calipso_clique_types").values())
        return JSONResponse(lab.truth().as_document(lab.environment(), types))

    def churn(request_body: dict) -> dict:
        changes = request_body.get("changes")
        if not isinstance(changes, int) or not 0 < changes <= MAX_CHANGES:
            raise ValueError(f"changes must be a whole number from 1 to {MAX_CHANGES}")
        rate, only = request_body.get("rate"), request_body.get("only")
        if only is not None and not (isinstance(only, list) and all(isinstance(c, str) for c in only)):
            raise ValueError("only must be a list of collection names")
        rng = random.Random(request_body.get("seed"))
        kinds: dict[str, int] = {}
        for _ in range(changes):
            change = lab.change(rng, only)
            kinds[change.kind] = kinds.get(change.kind, 0) + 1
            if rate:
                time.sleep(1 / float(rate))
        return {"changes": changes, "kinds": kinds}

    async def do_churn(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "a valid X-Lab-Token is required"}, 401)
        try:
            body = await request.json()
            return JSONResponse(await run_in_threadpool(churn, body))
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        except LabError as error:
            return JSONResponse({"error": str(error)}, error.status)

    return Starlette(routes=[Route("/truth", truth), Route("/churn", do_churn, methods=["POST"])])


class LabClient:
    """Talks to a running lab through the ``Lab`` section of its environment."""

    def __init__(self, section: dict, timeout: float = 600.0):
        self.url, self.token, self.timeout = section["url"].rstrip("/"), section["token"], timeout

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = httpx.request(method, f"{self.url}{path}", headers={"X-Lab-Token": self.token},
                                     timeout=self.timeout, **kwargs)
        except httpx.HTTPError as error:
            raise CalipsoError(f"the lab at {self.url} does not answer ({error}); "
                               "is 'calipso lab serve' running?") from None
        if response.status_code != 200:
            raise CalipsoError(f"the lab at {self.url} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def truth(self) -> dict:
        return self._call("GET", "/truth")

    def churn(self, changes: int, seed: int | None = None, rate: float | None = None,
              only: list[str] | None = None) -> dict:
        return self._call("POST", "/churn", json={"changes": changes, "seed": seed, "rate": rate, "only": only})

